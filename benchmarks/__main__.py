"""Run the benchmarks and print one ratio table per scenario: python -m benchmarks [--quick]."""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from . import (
    client_cost,
    decoding,
    fanout,
    import_time,
    launch_wait,
    memory,
    per_request,
    shared_waits,
    wait_strategies,
)
from ._harness import ROOT, Options, pin_client
from ._report import Table, machine, render_machine

SCENARIOS: dict[str, Callable[[Options], Table]] = {
    "per_request": per_request.run,
    "client_cost_get": client_cost.run_get,
    "decoding": decoding.run,
    "fanout": fanout.run,
    "client_cost_launch": client_cost.run_launch,
    "launch_wait": launch_wait.run,
    "wait_strategies": wait_strategies.run,
    "shared_waits": shared_waits.run,
    "memory": memory.run,
    "import_time": import_time.run,
}
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "latest.json"


def _scenario(name: str) -> str:
    key = name.replace("-", "_")
    if key not in SCENARIOS:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}"
        )
    return key


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="codeocean_async against raw httpx, raw aiohttp and the official SDK, "
        "against the fake Code Ocean served by uvicorn in another process.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes and one round: a smoke test"
    )
    parser.add_argument(
        "--only", nargs="+", type=_scenario, metavar="SCENARIO", help=", ".join(SCENARIOS)
    )
    parser.add_argument("--rounds", type=int, help="rounds per scenario (medians are reported)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"default: {DEFAULT_JSON}")
    args = parser.parse_args(argv)
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    server_cpu, pinning = pin_client()
    options = Options(quick=args.quick, rounds=args.rounds, server_cpu=server_cpu)
    names = args.only or list(SCENARIOS)
    print(f"codeocean_async benchmarks ({'quick' if args.quick else 'full'}; {pinning})\n")
    tables: list[Table] = []
    failed: list[str] = []
    started = time.perf_counter()
    for name in names:
        try:
            table = SCENARIOS[name](options)
        except Exception:
            traceback.print_exc()
            print(f"{name}: FAILED (traceback above)\n", flush=True)
            failed.append(name)
            continue
        tables.append(table)
        print(table.render() + "\n", flush=True)
    took = time.perf_counter() - started
    info = machine(pinning)
    print(render_machine(info))
    targets = [t for table in tables for t in table.targets]
    met = sum(t.met for t in targets)
    print(f"\n{met} of {len(targets)} targets met; took {took:.0f} s")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "options": {"quick": args.quick, "rounds": args.rounds, "only": names},
        "machine": info,
        "seconds": took,
        "failed": failed,
        "scenarios": {table.name: table.to_json() for table in tables},
    }
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.json}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
