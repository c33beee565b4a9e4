"""Launch and wait: time to all-complete, GETs per run and detection latency vs the official SDK."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from codeocean_async import Event, Finished, RunParams

from ._harness import Options, Server, Span, round_robin
from ._peers import official, run_async, sdk
from ._report import Metric, Table, Target

NAME = "launch_wait"
DURATIONS = (0.3, 1.4, 0.3)  # initializing, running, finalizing: a 2 s run on the fake's clock
CONCURRENCY = 32


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _figures(
    server: Server, start: float, end: float, seen: dict[str, float], n: int, span: Span
) -> dict[str, float]:
    stats: dict[str, Any] = server.stats()
    completions: dict[str, float] = stats["completions"]
    if len(seen) != n or len(completions) != n:
        raise RuntimeError(f"{len(seen)} of {n} runs seen finished, {len(completions)} launched")
    latencies = [seen[cid] - completions[cid] for cid in seen]
    requests = stats["requests"]
    gets = requests.get("get_computation", 0) + requests.get("list_computations", 0)
    ideal = max(completions.values()) - start
    return {
        "wall": end - start,
        "ideal": ideal,
        "vs_ideal": (end - start) / ideal,
        "gets": gets / n,
        "p50": statistics.median(latencies),
        "p95": _quantile(latencies, 0.95),
        "cpu": span.cpu,
    }


async def _ours(server: Server, n: int, strategy: str) -> dict[str, float]:
    capsule = server.new_capsule(DURATIONS)
    specs = [RunParams(capsule_id=capsule) for _ in range(n)]
    seen: dict[str, float] = {}

    def on_event(event: Event) -> None:
        if isinstance(event, Finished):
            seen[event.computation.id] = time.monotonic()

    # per_run: no request-rate cap (the default, 20 requests/s for all waits, would pace them).
    rate = None if strategy == "per_run" else 20.0
    async with sdk(server) as client:
        await client.capsules.get(capsule)
        server.reset()
        start = time.monotonic()
        with Span(server) as span:
            outcomes = await client.computations.run_and_wait_many(
                specs,
                concurrency=CONCURRENCY,
                strategy=strategy,  # type: ignore[arg-type]
                max_requests_per_second=rate,
                on_event=on_event,
            )
        end = time.monotonic()
    if not all(o.succeeded for o in outcomes):
        raise RuntimeError(f"{sum(not o.succeeded for o in outcomes)} runs did not succeed")
    return _figures(server, start, end, seen, n, span)


def _official(server: Server, n: int) -> dict[str, float]:
    from codeocean.computation import (  # type: ignore[import-untyped]
        RunParams as OfficialRunParams,
    )

    capsule = server.new_capsule(DURATIONS)
    client = official(server)
    client.capsules.get_capsule(capsule)
    seen: dict[str, float] = {}

    def one(_: int) -> None:
        launched = client.computations.run_capsule(OfficialRunParams(capsule_id=capsule))
        done = client.computations.wait_until_completed(launched, polling_interval=5)
        seen[done.id] = time.monotonic()

    server.reset()
    start = time.monotonic()
    try:
        with Span(server) as span, ThreadPoolExecutor(n) as pool:
            list(pool.map(one, range(n)))
        end = time.monotonic()
    finally:
        client.session.close()
    return _figures(server, start, end, seen, n, span)


def run(options: Options) -> Table:
    n = options.pick(200, 50)
    rounds = options.rounds_for(3, 1)
    with Server(NAME, cpu=options.server_cpu) as server:
        variants: list[tuple[str, Callable[[], dict[str, float]]]] = [
            (
                "run_and_wait_many, per_run (no rate cap)",
                lambda: run_async(_ours, server, n, "per_run"),
            ),
            ("run_and_wait_many, list", lambda: run_async(_ours, server, n, "list")),
            ("official SDK, a thread per run (poll 5 s)", lambda: _official(server, n)),
        ]
        rows = round_robin(NAME, variants, rounds)
        server_cpu = server.cpu_used()
    run_seconds = sum(DURATIONS)
    table = Table(
        NAME,
        f"launch and wait ({n} runs of {run_seconds:g} s, {rounds} rounds)",
        [
            Metric("wall", "all complete", "s"),
            Metric("ideal", "ideal", "s"),
            Metric("vs_ideal", "vs ideal", "x"),
            Metric("gets", "GET/run", "count"),
            Metric("p50", "detect p50", "s"),
            Metric("p95", "detect p95", "s"),
        ],
        ratio_key="wall",
        rows=rows,
    )
    table.notes.append(
        f"ideal = last run's completion on the server, from the first launch "
        f"(run time + launch time); server CPU during scenario: {server_cpu:.1f} s"
    )
    per_run, listed = rows[0].values, rows[1].values
    table.targets = [
        Target("ideal (per_run)", per_run["vs_ideal"], 1.3),
        Target("GET/run (per_run)", per_run["gets"], 6, unit=""),
        Target("ideal (list)", listed["vs_ideal"], 1.2),
        Target("requests/run (list)", listed["gets"], 0.1, unit=""),
    ]
    return table
