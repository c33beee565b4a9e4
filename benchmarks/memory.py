"""Memory: peak RSS of a fresh process waiting on 10,000 runs vs one that only imported the SDK.

Each variant runs in its own subprocess: ``python -m benchmarks.memory URL TOKEN CAPSULE MODE``
prints its peak RSS (``VmHWM``) as JSON.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from collections.abc import Callable, Sequence

from ._harness import ROOT, Options, Server, round_robin
from ._report import Metric, Table, Target

NAME = "memory"
MODES = ("baseline", "wait")


def _peak_rss() -> int:
    """This process's peak resident set, in bytes.

    ``VmHWM`` where Linux has it: ``ru_maxrss`` also counts the pages of the parent this
    process was forked from (it keeps its high-water mark across ``execve``).
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


async def _child(url: str, token: str, capsule: str, mode: str, count: int, seconds: float) -> int:
    import anyio

    from codeocean_async import AsyncCodeOcean

    from ._seed import memory_ids

    ids = memory_ids(count) if mode == "wait" else []
    async with AsyncCodeOcean(domain=url, token=token) as client:
        await client.capsules.get(capsule)  # the engine is loaded on the first request
        if mode == "wait":
            with anyio.move_on_after(seconds):
                await client.computations.wait_all(ids, strategy="list", capsule_id=capsule)
    return len(ids)


def child_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("url")
    parser.add_argument("token")
    parser.add_argument("capsule")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    import anyio

    waited = anyio.run(
        _child, args.url, args.token, args.capsule, args.mode, args.count, args.seconds
    )
    print(json.dumps({"peak_rss": _peak_rss(), "waited": waited}))
    return 0


def _variant(server: Server, mode: str, count: int, seconds: float) -> dict[str, float]:
    server.reset()
    command = [sys.executable, "-m", "benchmarks.memory", server.url, server.token]
    command += [server.capsule_id, mode, "--count", str(count), "--seconds", str(seconds)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"memory child ({mode}) failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    requests = server.stats()["requests"]
    return {"peak": float(result["peak_rss"]), "lists": requests.get("list_computations", 0)}


def run(options: Options) -> Table:
    count = options.pick(10_000, 2_000)
    seconds = options.pick(5, 2)
    rounds = options.rounds_for(3, 1)
    with Server(NAME, cpu=options.server_cpu, count=count) as server:
        variants: list[tuple[str, Callable[[], dict[str, float]]]] = [
            ("baseline: imported, one request", lambda: _variant(server, "baseline", count, 0)),
            (
                f"wait_all on {count:,} runs for {seconds} s (list)",
                lambda: _variant(server, "wait", count, seconds),
            ),
        ]
        rows = round_robin(NAME, variants, rounds)
        server_cpu = server.cpu_used()
    baseline = rows[0].values["peak"]
    for row in rows:
        row.values["over"] = row.values["peak"] - baseline
    table = Table(
        NAME,
        f"memory (peak RSS of a fresh process, default engine, {rounds} rounds)",
        [
            Metric("peak", "peak RSS", "mb"),
            Metric("over", "over baseline", "mb"),
            Metric("lists", "list requests", "count"),
        ],
        rows=rows,
    )
    table.notes.append(f"server CPU during scenario: {server_cpu:.1f} s")
    over_mb = rows[1].values["over"] / 2**20
    table.targets = [Target("over the import-only baseline", over_mb, 100, unit=" MB")]
    return table


if __name__ == "__main__":
    raise SystemExit(child_main())
