"""The engine under httpx: aiohttp on asyncio when it is installed, else httpx's own pool.

Measured on a loopback server, httpx 0.28's pool costs about 1 ms of client CPU per request and
more with many connections in flight, while aiohttp costs about 0.2 ms; split in shards
(``_shards``) it costs about twice aiohttp's. So when the ``aiohttp``
extra is installed and the client runs on asyncio, requests go through the ``httpx-aiohttp``
transport; under trio (which aiohttp does not support) they go through httpx's pool. The choice
is made on the first request, when the running event loop is known. Errors, timeouts and retries
behave the same on both: the request pipeline sees httpx's exceptions either way, and neither
engine resends a request on its own (``_aiohttp_engine``).
"""

from __future__ import annotations

import importlib.util
import ssl
from typing import Literal

import httpx
import sniffio

from ._errors import ConfigurationError
from ._shards import ShardedTransport

__all__ = ["AutoTransport", "Engine", "aiohttp_installed"]

#: Which engine sends requests: ``"auto"`` (aiohttp on asyncio when installed, else httpx),
#: ``"httpx"`` (httpx's own pool, on any backend) or ``"aiohttp"`` (asyncio only).
Engine = Literal["auto", "httpx", "aiohttp"]
#: httpx's pool in this many shards (``_shards``). Measured on the fast server, run_many at
#: concurrency 32 under trio: 1.51 ms of client CPU per launch in one pool, 0.66 in 4, 0.54 in
#: 8, 0.46 in 16, 0.40 in 32 (the aiohttp engine: 0.24). Each shard holds 4 of the 64
#: connections the limits allow.
POOL_SHARDS = 16
_INSTALL_HINT = "the aiohttp engine needs: pip install 'codeocean-async[aiohttp]'"


def aiohttp_installed() -> bool:
    """Whether the ``aiohttp`` extra (``httpx-aiohttp`` and ``aiohttp``) can be imported."""
    return all(importlib.util.find_spec(name) for name in ("httpx_aiohttp", "aiohttp"))


class AutoTransport(httpx.AsyncBaseTransport):
    """An httpx transport that becomes the engine's transport on its first request."""

    def __init__(
        self, *, engine: Engine, verify: ssl.SSLContext | str | bool, limits: httpx.Limits
    ) -> None:
        if engine not in ("auto", "httpx", "aiohttp"):
            raise ConfigurationError(f"engine must be 'auto', 'httpx' or 'aiohttp', not {engine!r}")
        if engine == "aiohttp" and not aiohttp_installed():
            raise ConfigurationError(_INSTALL_HINT)
        self._engine = engine
        self._verify = verify
        self._limits = limits
        self._transport: httpx.AsyncBaseTransport | None = None

    @property
    def engine(self) -> str | None:
        """The engine in use (``"httpx"`` or ``"aiohttp"``), or ``None`` before any request."""
        if self._transport is None:
            return None
        httpx_pool = (httpx.AsyncHTTPTransport, ShardedTransport)
        return "httpx" if isinstance(self._transport, httpx_pool) else "aiohttp"

    def _choose(self) -> httpx.AsyncBaseTransport:
        library = sniffio.current_async_library()
        use_aiohttp = self._engine == "aiohttp" or (
            self._engine == "auto" and library == "asyncio" and aiohttp_installed()
        )
        if not use_aiohttp:
            return ShardedTransport(verify=self._verify, limits=self._limits, shards=POOL_SHARDS)
        if library != "asyncio":
            raise ConfigurationError(
                f"the aiohttp engine runs on asyncio only, not {library}: use engine='httpx'"
            )
        # Imported here: the module needs the optional aiohttp extra.
        from ._aiohttp_engine import quiet_transport

        return quiet_transport(verify=self._verify, limits=self._limits)

    def resolve(self) -> httpx.AsyncBaseTransport:
        """The engine's transport (chosen now if no request has been sent yet)."""
        if self._transport is None:
            self._transport = self._choose()
        return self._transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.resolve().handle_async_request(request)

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
