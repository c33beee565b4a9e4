"""The client's own cost: CPU per GET and per launch against a minimal fast server.

Against the fake Code Ocean the server's core is the bottleneck (raw aiohttp keeps it ~98% busy),
which hides what each client costs. Here every variant talks to ``benchmarks.fast_server``
(canned answers, uvicorn with httptools and uvloop), whose load is shown beside each row: well
under 100% means the figures are the client's. Garbage from earlier variants is collected
before each timed span, so one variant's garbage is not billed to the next.

Rows: this SDK on the aiohttp engine; raw aiohttp (the floor); raw httpx on the same aiohttp
transport; that transport alone with one prebuilt request (what httpx's client layer and request
objects cost, by difference); and the SDK on httpx's own pool (under asyncio, and under trio where
it is the only engine).
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any

import aiohttp
import anyio
import httpx
import httpx_aiohttp

from codeocean_async import RunParams

from ._harness import Options, Server, Span, round_robin
from ._peers import Engine, headers, sdk
from ._report import Metric, Table, Target
from .per_request import _raw_aiohttp, _raw_httpx, _sdk  # the same GETs, on the fast server

MODULE = "benchmarks.fast_server"
WARMUP = 100
CONCURRENCY = 32


def _run(backend: str, func: Callable[..., Awaitable[dict[str, float]]], *args: Any) -> Any:
    gc.collect()
    return anyio.run(partial(func, *args), backend=backend)


def _variant(
    label: str, backend: str, func: Callable[..., Awaitable[dict[str, float]]], *args: Any
) -> tuple[str, Callable[[], dict[str, float]]]:
    """A row: ``func(*args)`` on a fresh event loop of ``backend``, garbage collected first."""
    return label, partial(_run, backend, func, *args)


def _figures(span: Span, n: int) -> dict[str, float]:
    return {"cpu": span.cpu / n, "wall": span.wall / n, "load": span.server_load}


# --- one GET at a time -------------------------------------------------------------------------


async def _bare_get(server: Server, n: int) -> dict[str, float]:
    """The aiohttp transport with one prebuilt request: no client layer, no request building."""
    url = f"{server.url}/api/v1/capsules/{server.capsule_id}"
    request = httpx.Request("GET", url, headers=headers(server.token))
    transport = httpx_aiohttp.AiohttpTransport()

    async def once() -> None:
        response = await transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()

    async with transport:
        for _ in range(WARMUP):
            await once()
        with Span(server) as span:
            for _ in range(n):
                await once()
    return _figures(span, n)


# --- launches, CONCURRENCY at a time -----------------------------------------------------------


async def _sdk_launch(server: Server, engine: Engine, n: int) -> dict[str, float]:
    specs = [RunParams(capsule_id=server.capsule_id) for _ in range(n)]
    async with sdk(server, engine) as client:
        await client.capsules.get(server.capsule_id)  # the engine is chosen on the first request
        await client.computations.run_many(specs[:WARMUP], concurrency=CONCURRENCY)
        with Span(server) as span:
            outcomes = await client.computations.run_many(specs, concurrency=CONCURRENCY)
    failed = sum(not o.ok for o in outcomes)
    if failed:
        raise RuntimeError(f"{failed} of {n} launches failed")
    return _figures(span, n)


async def _aiohttp_launch(server: Server, n: int) -> dict[str, float]:
    url = f"{server.url}/api/v1/computations"
    body = {"capsule_id": server.capsule_id}
    failed = 0

    async def worker(session: aiohttp.ClientSession, counter: Iterator[int], limit: int) -> None:
        nonlocal failed
        while next(counter) < limit:
            async with session.post(url, json=body) as response:
                data = await response.json()
                failed += response.status != 200 or "id" not in data

    async with aiohttp.ClientSession(headers=headers(server.token)) as session:
        for limit, timed in ((WARMUP, False), (n, True)):
            counter = itertools.count()
            with Span(server) as span:
                async with anyio.create_task_group() as tg:
                    for _ in range(CONCURRENCY):
                        tg.start_soon(worker, session, counter, limit)
            assert timed or span.wall >= 0  # the warm-up's span is discarded
    if failed:
        raise RuntimeError(f"{failed} raw launches failed")
    return _figures(span, n)


_METRICS = [
    Metric("cpu", "client CPU", "ms"),
    Metric("wall", "wall", "ms"),
    Metric("load", "server core busy", "pct"),
]


def _load_note(rows: list[Any]) -> str:
    peak = max(r.values["load"] for r in rows)
    return (
        f"the fast server's core was at most {peak:.0%} busy (well under 100%: the client set "
        "the pace); garbage collected before each variant"
    )


def run_get(options: Options) -> Table:
    n = options.pick(3000, 300)
    rounds = options.rounds_for(5, 1)
    with Server("client_cost", cpu=options.server_cpu, module=MODULE) as server:
        variants = [
            _variant("raw aiohttp", "asyncio", _raw_aiohttp, server, n),
            _variant("codeocean_async (aiohttp engine)", "asyncio", _sdk, server, "aiohttp", n),
            _variant("raw httpx on the aiohttp transport", "asyncio", _raw_httpx, server, n, True),
            _variant("aiohttp transport alone, prebuilt request", "asyncio", _bare_get, server, n),
            _variant("codeocean_async (httpx engine)", "asyncio", _sdk, server, "httpx", n),
            _variant("codeocean_async (httpx engine, trio)", "trio", _sdk, server, "httpx", n),
        ]
        rows = round_robin("client_cost_get", variants, rounds)
    table = Table(
        "client_cost_get",
        f"client cost per GET (capsules.get, sequential, {n:,} requests, fast server, "
        f"{rounds} rounds)",
        _METRICS,
        ratio_key="cpu",
        rows=rows,
    )
    table.notes.append(_load_note(rows))
    ours = table.value("codeocean_async (aiohttp engine)", "cpu")
    floor = table.value("raw aiohttp", "cpu")
    table.targets = [
        Target("raw aiohttp, client CPU per GET", ours / floor, 2.0),
        Target("raw aiohttp, client CPU per GET (goal)", ours / floor, 1.5),
    ]
    return table


def run_launch(options: Options) -> Table:
    n = options.pick(3000, 300)
    rounds = options.rounds_for(5, 1)

    def sdk_args(engine: Engine) -> tuple[Any, ...]:
        return (_sdk_launch, server, engine, n)

    with Server("client_cost", cpu=options.server_cpu, module=MODULE) as server:
        c = CONCURRENCY
        variants = [
            _variant(f"raw aiohttp POSTs, concurrency {c}", "asyncio", _aiohttp_launch, server, n),
            _variant(
                f"run_many, concurrency {c} (aiohttp engine)", "asyncio", *sdk_args("aiohttp")
            ),
            _variant(f"run_many, concurrency {c} (httpx engine)", "asyncio", *sdk_args("httpx")),
            _variant(f"run_many, concurrency {c} (httpx engine, trio)", "trio", *sdk_args("httpx")),
        ]
        rows = round_robin("client_cost_launch", variants, rounds)
    table = Table(
        "client_cost_launch",
        f"client cost per launch (run_many, {n:,} launches, fast server, {rounds} rounds)",
        _METRICS,
        ratio_key="cpu",
        rows=rows,
    )
    table.notes.append(_load_note(rows))
    labels = [label for label, _ in variants]
    floor, ours, _httpx, trio = (table.value(label, "cpu") for label in labels)
    table.targets = [
        Target("raw aiohttp, client CPU per launch", ours / floor, 2.0),
        Target("raw aiohttp, client CPU per launch (goal)", ours / floor, 1.5),
        Target("the asyncio engine, client CPU per launch under trio", trio / ours, 3.0),
    ]
    return table
