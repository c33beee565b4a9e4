"""Fixtures for the fake's own tests: a fake on a ManualClock and a raw httpx client to it."""

from collections.abc import AsyncIterator

import httpx
import pytest

from codeocean_async.testing import FakeCodeOcean, ManualClock

BASE_URL = "http://codeocean.test"
API = "/api/v1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> FakeCodeOcean:
    return FakeCodeOcean(token="cop_test", clock=clock)


@pytest.fixture
async def http(fake: FakeCodeOcean) -> AsyncIterator[httpx.AsyncClient]:
    """A raw client that authenticates as the real SDK does: Basic token:"" plus JSON headers."""
    async with httpx.AsyncClient(
        transport=fake.transport(),
        base_url=BASE_URL + API,
        auth=(fake.token, ""),
        headers={"Content-Type": "application/json", "Min-Server-Version": "4.8.0"},
    ) as client:
        yield client
