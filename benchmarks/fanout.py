"""Fan-out: launches/s of run_many at several concurrencies vs the official SDK and raw aiohttp."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import aiohttp
import anyio

from codeocean_async import RunParams

from ._harness import Options, Server, Span, round_robin
from ._peers import Engine, headers, official, run_async, sdk
from ._report import Metric, Table, Target

NAME = "fanout"
CONCURRENCIES = (8, 32, 64)
THREADS = 32


def _figures(span: Span, n: int, failed: int) -> dict[str, float]:
    if failed:
        raise RuntimeError(f"{failed} of {n} launches failed")
    return {
        "rate": n / span.wall,
        "cpu": span.cpu / n,
        "client_load": span.client_load,
        "load": span.server_load,
    }


async def _run_many(server: Server, n: int, concurrency: int, engine: Engine) -> dict[str, float]:
    specs = [RunParams(capsule_id=server.capsule_id) for _ in range(n)]
    async with sdk(server, engine) as client:
        await client.capsules.get(server.capsule_id)  # the engine is chosen on the first request
        with Span(server) as span:
            outcomes = await client.computations.run_many(specs, concurrency=concurrency)
    return _figures(span, n, sum(not o.ok for o in outcomes))


async def _raw_aiohttp(server: Server, n: int, concurrency: int) -> dict[str, float]:
    url = f"{server.url}/api/v1/computations"
    body = {"capsule_id": server.capsule_id}
    counter = itertools.count()
    failed = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal failed
        while next(counter) < n:
            async with session.post(url, json=body) as response:
                data = await response.json()
                failed += response.status != 200 or "id" not in data

    async with aiohttp.ClientSession(headers=headers(server.token)) as session:
        async with session.get(f"{url[: -len('computations')]}capsules/{server.capsule_id}") as r:
            await r.read()
        with Span(server) as span:
            async with anyio.create_task_group() as tg:
                for _ in range(concurrency):
                    tg.start_soon(worker, session)
    return _figures(span, n, failed)


def _official(server: Server, n: int, threads: int) -> dict[str, float]:
    from codeocean.computation import (  # type: ignore[import-untyped]
        RunParams as OfficialRunParams,
    )

    client = official(server)
    client.capsules.get_capsule(server.capsule_id)
    params = [OfficialRunParams(capsule_id=server.capsule_id) for _ in range(n)]
    try:
        with Span(server) as span:
            if threads == 1:
                launched = [client.computations.run_capsule(p) for p in params]
            else:
                with ThreadPoolExecutor(threads) as pool:
                    launched = list(pool.map(client.computations.run_capsule, params))
    finally:
        client.session.close()
    return _figures(span, n, sum(not c.id for c in launched))


def _label(concurrency: int) -> str:
    return f"run_many, concurrency {concurrency} (aiohttp engine)"


def run(options: Options) -> Table:
    n = options.pick(1000, 200)
    rounds = options.rounds_for(5, 1)
    variants: list[tuple[str, Callable[[], dict[str, float]]]] = []
    with Server(NAME, cpu=options.server_cpu) as server:
        for c in CONCURRENCIES:
            variants.append((_label(c), partial(run_async, _run_many, server, n, c, "aiohttp")))
        variants.append(
            (
                "run_many, concurrency 32 (httpx engine)",
                lambda: run_async(_run_many, server, n, 32, "httpx"),
            )
        )
        variants.append(("official SDK, sequential", lambda: _official(server, n, 1)))
        variants.append(
            (f"official SDK, {THREADS} threads, one client", lambda: _official(server, n, THREADS))
        )
        for c in CONCURRENCIES:
            variants.append(
                (
                    f"raw aiohttp POSTs, concurrency {c}",
                    partial(run_async, _raw_aiohttp, server, n, c),
                )
            )
        rows = round_robin(NAME, variants, rounds)
        server_cpu = server.cpu_used()
    table = Table(
        NAME,
        f"fan-out launches ({n:,} runs per variant, {rounds} rounds)",
        [
            Metric("rate", "launches/s", "rate"),
            Metric("cpu", "client CPU/launch", "ms"),
            Metric("client_load", "client core busy", "pct"),
            Metric("load", "server core busy", "pct"),
        ],
        ratio_key="rate",
        rows=rows,
    )
    ours = max((r for r in rows if r.label.startswith("run_many")), key=lambda r: r.values["rate"])
    theirs = max(
        (r for r in rows if r.label.startswith("official")), key=lambda r: r.values["rate"]
    )
    raw = max((r for r in rows if r.label.startswith("raw")), key=lambda r: r.values["rate"])
    table.notes.append(
        f"server CPU during scenario: {server_cpu:.1f} s; best: {ours.label}; "
        f"official best: {theirs.label}; raw best: {raw.label}"
    )
    table.targets = [
        Target("the official SDK's best", ours.values["rate"] / theirs.values["rate"], 4, op=">="),
        Target("slower than raw aiohttp (goal)", raw.values["rate"] / ours.values["rate"], 1.5),
    ]
    return table
