"""Wait strategies: the requests it costs to wait on 1,000 runs of one capsule, by strategy.

The fake runs in process (its own transport): what is measured here is what the fake received,
not speed. Each strategy waits on the same number of runs of one capsule, each taking about 3 s
(0.5 s initializing, 2 s running, 0.5 s finalizing), with the client's default PollPolicy.
"""

from __future__ import annotations

import collections
import time
from functools import partial

import anyio

import codeocean_async as co
from codeocean_async._scheduler import Strategy
from codeocean_async.testing import FakeCodeOcean

from ._harness import Options, round_robin
from ._report import Metric, Table, Target

NAME = "wait_strategies"
DURATIONS = (0.5, 2.0, 0.5)


async def _wait(count: int, strategy: Strategy, cap: float | None) -> dict[str, float]:
    fake = FakeCodeOcean()
    capsule = fake.add_capsule(run_durations=DURATIONS)["id"]
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=fake.transport(),
        allow_insecure_http=True,
    ) as client:
        specs = [{"capsule_id": capsule, "parameters": [str(i)]} for i in range(count)]
        launched = await client.computations.run_many(specs, concurrency=32)
        runs = [o.computation for o in launched if o.computation is not None]
        fake.reset_requests()
        started = time.perf_counter()
        finals = await client.computations.wait_all(
            runs,
            strategy=strategy,
            max_requests_per_second=cap,
        )
        wall = time.perf_counter() - started
    assert all(f.outcome is co.Outcome.SUCCEEDED for f in finals)
    kinds = collections.Counter(
        "list" if r.path.endswith("/computations") else "get" for r in fake.requests
    )
    return {
        "list": float(kinds["list"]),
        "get": float(kinds["get"]),
        "per_run": (kinds["list"] + kinds["get"]) / count,
        "wall": wall,
    }


def run(options: Options) -> Table:
    count = options.pick(1000, 200)
    rounds = options.rounds_for(1, 1)  # counts, not timings: one round tells
    choices: list[tuple[Strategy, float | None]] = [
        ("list", 20.0),
        ("auto", 20.0),
        ("per_run", 20.0),
        ("per_run", None),
    ]
    rows = round_robin(
        NAME,
        [
            (
                f"{strategy}{'' if cap else ', no rate cap'}",
                partial(anyio.run, _wait, count, strategy, cap),
            )
            for strategy, cap in choices
        ],
        rounds,
    )
    table = Table(
        NAME,
        f"wait strategies ({count:,} runs of one capsule, ~3 s each, default PollPolicy)",
        [
            Metric("list", "list requests", "count"),
            Metric("get", "GET computation", "count"),
            Metric("per_run", "requests per run", "count"),
            Metric("wall", "until all seen", "s"),
        ],
        rows=rows,
    )
    table.notes.append(
        "the default cap is 20 requests/s: per-run polling of many runs is paced by it"
    )
    per_run_list = table.value("list", "per_run")
    table.targets = [Target("requests per run with list polling", per_run_list, 0.1, unit="")]
    return table
