"""Shared fixtures: both anyio backends, payload fixtures, and a fast-polling client on the fake."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import stamina

from codeocean_async import AsyncCodeOcean, PollPolicy
from codeocean_async._transport import Engine
from codeocean_async.testing import FakeCodeOcean, ManualClock

FIXTURES = Path(__file__).parent / "fixtures"

#: Polls every few milliseconds, without jitter, so waits on the fake finish at once.
FAST_POLL = PollPolicy(initial=0.001, maximum=0.005, jitter=0)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    """Retries keep their attempt counts but never sleep (stamina's testing mode)."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


@pytest.fixture(params=["httpx", "aiohttp"])
def engine(request: pytest.FixtureRequest, anyio_backend: str) -> Engine:
    """The engine under the client, for tests on real sockets (aiohttp runs on asyncio only)."""
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return cast(Engine, request.param)


@pytest.fixture
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback traffic stays on loopback whatever proxy the environment names."""
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)


def load_fixture(name: str) -> Any:
    """A JSON payload from tests/fixtures (copied from the API reference and the seed page)."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def codeocean_fake() -> FakeCodeOcean:
    """The plugin's fake, but on a ManualClock: this repo's tests move time by hand."""
    return FakeCodeOcean(clock=ManualClock())


@pytest.fixture
async def client(codeocean_fake: FakeCodeOcean) -> AsyncIterator[AsyncCodeOcean]:
    """A client on the in-process fake, polling fast."""
    async with AsyncCodeOcean(
        domain="http://codeocean.test",
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),  # enacts the fault plan's dropped connections
        allow_insecure_http=True,
        poll=FAST_POLL,
    ) as c:
        yield c


@pytest.fixture(params=["transport", "http_client"])
async def client_by_either_route(
    request: pytest.FixtureRequest, codeocean_fake: FakeCodeOcean
) -> AsyncIterator[AsyncCodeOcean]:
    """A client on the fake by each of the two routes a request can take: the SDK's own httpx
    client over ``transport=``, and a caller's ``httpx.AsyncClient`` passed as ``http_client=``."""
    options: dict[str, Any] = {
        "domain": "http://codeocean.test",
        "token": codeocean_fake.token,
        "allow_insecure_http": True,
        "poll": FAST_POLL,
    }
    if request.param == "transport":
        async with AsyncCodeOcean(transport=codeocean_fake.transport(), **options) as c:
            yield c
        return
    caller = httpx.AsyncClient(transport=codeocean_fake.transport())
    async with caller, AsyncCodeOcean(http_client=caller, **options) as c:
        yield c


def mock_client(handler: Any, **kwargs: Any) -> AsyncCodeOcean:
    """A client whose every request goes to ``handler`` (an ``httpx.MockTransport`` handler)."""
    kwargs.setdefault("poll", FAST_POLL)
    return AsyncCodeOcean(
        domain="https://acme.codeocean.com",
        token="cop_test_token_0123456789",
        transport=httpx.MockTransport(handler),
        **kwargs,
    )
