"""The clients compared: this SDK on an engine, raw httpx, raw aiohttp, the official SDK."""

from __future__ import annotations

import base64
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, Literal, TypeVar

import anyio

from codeocean_async import AsyncCodeOcean

from ._harness import Server

__all__ = ["Engine", "headers", "official", "run_async", "sdk"]

T = TypeVar("T")
Engine = Literal["auto", "httpx", "aiohttp"]

# requests' pool keeps 10 connections per host; with more threads it logs a warning for each
# connection it discards. Users see that too; here it would only hide the tables.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


def run_async(func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run a coroutine function on a fresh asyncio event loop."""
    return anyio.run(partial(func, *args, **kwargs), backend="asyncio")


def headers(token: str) -> dict[str, str]:
    """The headers this SDK sends: the raw clients send the same (Basic auth, JSON)."""
    credentials = base64.b64encode(f"{token}:".encode()).decode("ascii")
    return {
        "authorization": f"Basic {credentials}",
        "accept": "application/json",
        "min-server-version": "4.8.0",
    }


def sdk(server: Server, engine: Engine = "auto") -> AsyncCodeOcean:
    """This SDK's client to the benchmark server, on ``engine``."""
    return AsyncCodeOcean(domain=server.url, token=server.token, engine=engine)


def official(server: Server) -> Any:
    """The official (sync, requests-based) SDK's client to the benchmark server."""
    from codeocean import CodeOcean  # type: ignore[import-untyped]

    return CodeOcean(domain=server.url, token=server.token)
