"""Per-request cost: capsules.get in sequence vs raw httpx (per transport), aiohttp, official."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import httpx
import httpx_aiohttp

from ._harness import Options, Server, Span, round_robin
from ._peers import Engine, headers, official, run_async, sdk
from ._report import Metric, Table, Target

NAME = "per_request"
WARMUP = 50


def _figures(span: Span, n: int) -> dict[str, float]:
    return {
        "cpu": span.cpu / n,
        "wall": span.wall / n,
        "server": span.server_cpu / n,
        "load": span.server_load,
    }


async def _sdk(server: Server, engine: Engine, n: int) -> dict[str, float]:
    async with sdk(server, engine) as client:
        for _ in range(WARMUP):
            await client.capsules.get(server.capsule_id)
        with Span(server) as span:
            for _ in range(n):
                await client.capsules.get(server.capsule_id)
    return _figures(span, n)


async def _raw_httpx(server: Server, n: int, on_aiohttp: bool = False) -> dict[str, float]:
    """Raw httpx GET + .json(): on httpx's own pool, or on the aiohttp transport."""
    url = f"{server.url}/api/v1/capsules/{server.capsule_id}"
    transport = httpx_aiohttp.AiohttpTransport() if on_aiohttp else None
    async with httpx.AsyncClient(headers=headers(server.token), transport=transport) as client:
        for _ in range(WARMUP):
            (await client.get(url)).raise_for_status()
        with Span(server) as span:
            for _ in range(n):
                response = await client.get(url)
                response.raise_for_status()
                response.json()
    return _figures(span, n)


async def _raw_aiohttp(server: Server, n: int) -> dict[str, float]:
    url = f"{server.url}/api/v1/capsules/{server.capsule_id}"
    async with aiohttp.ClientSession(headers=headers(server.token)) as session:
        for _ in range(WARMUP):
            async with session.get(url) as response:
                await response.read()
        with Span(server) as span:
            for _ in range(n):
                async with session.get(url) as response:
                    response.raise_for_status()
                    await response.json()
    return _figures(span, n)


def _official(server: Server, n: int) -> dict[str, float]:
    client = official(server)
    try:
        for _ in range(WARMUP):
            client.capsules.get_capsule(server.capsule_id)
        with Span(server) as span:
            for _ in range(n):
                client.capsules.get_capsule(server.capsule_id)
    finally:
        client.session.close()
    return _figures(span, n)


def run(options: Options) -> Table:
    n = options.pick(2000, 300)
    rounds = options.rounds_for(5, 1)
    with Server(NAME, cpu=options.server_cpu) as server:
        variants: list[tuple[str, Callable[[], dict[str, float]]]] = [
            ("codeocean_async (aiohttp engine)", lambda: run_async(_sdk, server, "aiohttp", n)),
            ("raw httpx on the aiohttp transport", lambda: run_async(_raw_httpx, server, n, True)),
            ("raw aiohttp", lambda: run_async(_raw_aiohttp, server, n)),
            ("codeocean_async (httpx engine)", lambda: run_async(_sdk, server, "httpx", n)),
            ("raw httpx", lambda: run_async(_raw_httpx, server, n)),
            ("official codeocean SDK (requests)", lambda: _official(server, n)),
        ]
        rows = round_robin(NAME, variants, rounds)
        server_cpu = server.cpu_used()
    table = Table(
        NAME,
        f"per-request cost (capsules.get, sequential, {n} requests, {rounds} rounds)",
        [
            Metric("cpu", "client CPU/request", "ms"),
            Metric("wall", "wall/request", "ms"),
            Metric("server", "server CPU/request", "ms"),
        ],
        ratio_key="cpu",
        rows=rows,
    )
    peak_load = max(r.values["load"] for r in rows)
    table.notes.append(
        f"server CPU during scenario: {server_cpu:.1f} s "
        f"(busiest variant kept the server's core {peak_load:.0%} busy)"
    )
    cpu = {label: table.value(label, "cpu") for label, _ in variants}
    ours_aio, ours_httpx = (
        cpu["codeocean_async (aiohttp engine)"],
        cpu["codeocean_async (httpx engine)"],
    )
    off = cpu["official codeocean SDK (requests)"]
    # The target: "at most 1.15x raw httpx on the same transport". Raw aiohttp (no httpx
    # at all) is shown for scale, with no target.
    table.targets = [
        Target("raw httpx (httpx engine)", ours_httpx / cpu["raw httpx"], 1.15),
        Target(
            "raw httpx on the same transport (aiohttp engine)",
            ours_aio / cpu["raw httpx on the aiohttp transport"],
            1.15,
        ),
        Target("official SDK (aiohttp engine, the default)", ours_aio / off, 0.5),
        Target("official SDK (httpx engine)", ours_httpx / off, 0.5),
    ]
    return table
