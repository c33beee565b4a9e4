"""Independent waits: 1,000 tasks each awaiting ``wait_for_completion``, beside one ``wait_all``.

The fake runs in process (its own transport), on the real clock. Every run of one capsule takes
about 3 s (0.5 s initializing, 2 s running, 0.5 s finalizing); the client has its default
PollPolicy. "Independent" is 1,000 tasks, each awaiting its own run's ``wait_for_completion``
on the same client (as 1,000 web requests or Airflow triggers would): they share the client's
poll loop. Beside it, the same runs waited on by one ``wait_all`` (its ``Finished`` events).
Measured: the requests the fake received per run, and the detection delay (the moment a wait
saw its run finished minus the moment the run finished on the fake: its launch answer plus its
planned 3 s).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from functools import partial

import anyio

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean

from ._harness import Options, round_robin
from ._report import Metric, Table, Target

NAME = "shared_waits"
DURATIONS = (0.5, 2.0, 0.5)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _independent(client: co.AsyncCodeOcean, runs: list[co.Computation]) -> dict[str, float]:
    seen: dict[str, float] = {}

    async def one(run: co.Computation) -> None:
        final = await client.computations.wait_for_completion(run)
        seen[final.id] = time.monotonic()

    async with anyio.create_task_group() as tg:
        for run in runs:
            tg.start_soon(one, run)
    return seen


async def _one_caller(client: co.AsyncCodeOcean, runs: list[co.Computation]) -> dict[str, float]:
    seen: dict[str, float] = {}

    def on_event(event: co.Event) -> None:
        if isinstance(event, co.Finished):
            seen[event.computation.id] = time.monotonic()

    await client.computations.wait_all(runs, on_event=on_event)
    return seen


Waiter = Callable[[co.AsyncCodeOcean, list[co.Computation]], Awaitable[dict[str, float]]]


async def _measure(count: int, waiter: Waiter) -> dict[str, float]:
    fake = FakeCodeOcean()
    capsule = fake.add_capsule(run_durations=DURATIONS)["id"]
    finishes: dict[str, float] = {}

    def on_event(event: co.Event) -> None:
        if isinstance(event, co.Launched):  # finished on the fake its planned time after this
            finishes[event.computation.id] = time.monotonic() + sum(DURATIONS)

    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=fake.transport(),
        allow_insecure_http=True,
    ) as client:
        specs = [{"capsule_id": capsule, "parameters": [str(i)]} for i in range(count)]
        launched = await client.computations.run_many(specs, concurrency=32, on_event=on_event)
        runs = [o.computation for o in launched if o.computation is not None]
        fake.reset_requests()
        started = time.perf_counter()
        seen = await waiter(client, runs)
        wall = time.perf_counter() - started
    if len(seen) != count:
        raise RuntimeError(f"{len(seen)} of {count} runs seen finished")
    delays = [seen[cid] - finishes[cid] for cid in seen]
    lists = sum(r.path.endswith("/computations") for r in fake.requests)
    return {
        "list": float(lists),
        "get": float(len(fake.requests) - lists),
        "per_run": len(fake.requests) / count,
        "p50": statistics.median(delays),
        "p95": _quantile(delays, 0.95),
        "wall": wall,
    }


def run(options: Options) -> Table:
    count = options.pick(1000, 200)
    rounds = options.rounds_for(3, 1)  # the ticks are jittered: medians of three rounds
    rows = round_robin(
        NAME,
        [
            (
                f"{count:,} tasks, each wait_for_completion",
                partial(anyio.run, _measure, count, _independent),
            ),
            ("one caller, wait_all", partial(anyio.run, _measure, count, _one_caller)),
        ],
        rounds,
    )
    table = Table(
        NAME,
        f"independent waits ({count:,} runs of one capsule, ~3 s each, default PollPolicy)",
        [
            Metric("list", "list requests", "count"),
            Metric("get", "GET computation", "count"),
            Metric("per_run", "requests per run", "count"),
            Metric("p50", "detect p50", "s"),
            Metric("p95", "detect p95", "s"),
            Metric("wall", "until all seen", "s"),
        ],
        rows=rows,
    )
    table.notes.append(
        "independent waits share the client's poll loop: one listing of the capsule per tick"
    )
    independent, together = rows[0].values, rows[1].values
    table.targets = [
        Target("requests per run, independent waits", independent["per_run"], 0.1, unit=""),
        Target(
            "detect p95, independent waits vs one caller (+0.5 s)",
            independent["p95"],
            together["p95"] + 0.5,
            unit=" s",
        ),
    ]
    return table
