"""Profile the client's own cost against the fast server (cProfile), to find the hot spots.

    .venv/bin/python -m benchmarks.profile_client get [--engine aiohttp] [--backend asyncio]
    .venv/bin/python -m benchmarks.profile_client launch [--engine httpx] [--backend trio]

Prints the top functions by own time and by cumulative time (the server runs in a subprocess:
only the client is profiled).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
from collections.abc import Sequence
from functools import partial

import anyio

from codeocean_async import RunParams

from ._harness import Server
from ._peers import sdk

MODULE = "benchmarks.fast_server"


async def _get(server: Server, engine: str, n: int, profile: cProfile.Profile) -> None:
    async with sdk(server, engine) as client:  # type: ignore[arg-type]
        for _ in range(100):
            await client.capsules.get(server.capsule_id)
        profile.enable()
        for _ in range(n):
            await client.capsules.get(server.capsule_id)
        profile.disable()


async def _launch(server: Server, engine: str, n: int, profile: cProfile.Profile) -> None:
    specs = [RunParams(capsule_id=server.capsule_id)] * n
    async with sdk(server, engine) as client:  # type: ignore[arg-type]
        await client.computations.run_many(specs[:100], concurrency=32)
        profile.enable()
        await client.computations.run_many(specs, concurrency=32)
        profile.disable()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_client")
    parser.add_argument("scenario", choices=["get", "launch"])
    parser.add_argument("--engine", default="aiohttp", choices=["aiohttp", "httpx"])
    parser.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    parser.add_argument("-n", type=int, default=3000)
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args(argv)
    profile = cProfile.Profile()
    run = _get if args.scenario == "get" else _launch
    with Server("client_cost", cpu=1, module=MODULE) as server:
        anyio.run(partial(run, server, args.engine, args.n, profile), backend=args.backend)
    stats = pstats.Stats(profile).strip_dirs()
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
