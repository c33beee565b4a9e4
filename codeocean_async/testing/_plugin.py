"""pytest plugin: fixtures serving the fake Code Ocean in process to tests and to the client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from ._app import FakeCodeOcean
from ._clock import ManualClock

if TYPE_CHECKING:
    from codeocean_async import AsyncCodeOcean

__all__ = ["FAKE_DOMAIN", "codeocean_client", "codeocean_fake"]

FAKE_DOMAIN = "http://codeocean.test"


@pytest.fixture
def codeocean_fake() -> FakeCodeOcean:
    """A fresh, empty FakeCodeOcean on a ManualClock (``codeocean_fake.clock.advance(s)``)."""
    return FakeCodeOcean(clock=ManualClock())


@pytest.fixture
async def codeocean_client(codeocean_fake: FakeCodeOcean) -> AsyncIterator[AsyncCodeOcean]:
    """An open ``AsyncCodeOcean`` talking to ``codeocean_fake`` in process (no sockets).

    It goes through ``codeocean_fake.transport()``, so dropped connections raise as over a socket.
    """
    # Imported here so that loading the plugin never imports the client.
    from codeocean_async import AsyncCodeOcean

    async with AsyncCodeOcean(
        domain=FAKE_DOMAIN,
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),
        allow_insecure_http=True,
    ) as client:
        yield client
