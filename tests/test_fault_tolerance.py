"""The client against the fake's fault plan: in process, and over real sockets for what only
sockets show (dropped connections, timeouts)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import codeocean_async as co
from codeocean_async._transport import Engine
from codeocean_async.testing import FakeCodeOcean, Fault, ManualClock, serve_in_thread

from .conftest import FAST_POLL

pytestmark = pytest.mark.anyio

QUICK = co.RetryPolicy(settle=0.05)


@pytest.fixture
def codeocean_fake() -> FakeCodeOcean:
    """The plugin's fake, on today's date: reconciling believes a server clock only within
    minutes of the local one (or as measured by a launch), and the default fake lives in 2023."""
    return FakeCodeOcean(clock=ManualClock(), base_time=int(time.time()))


@pytest.fixture
def capsule(codeocean_fake: FakeCodeOcean) -> str:
    return str(codeocean_fake.add_capsule(versions=(1,), run_durations=(0, 0, 0))["id"])


def _posts(fake: FakeCodeOcean) -> int:
    return sum(1 for r in fake.requests if r.method == "POST")


# --- in process ---------------------------------------------------------------------------------


async def test_reads_ride_out_429_5xx_html_pages_drops_and_drift(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    codeocean_fake.faults.script(
        "GET",
        "/capsules/*",
        Fault.rate_limited(retry_after=1),
        Fault.rate_limited(),
        Fault.server_error(503),
        Fault.server_error(502, html=True),
        Fault.drop_before(),
        Fault.drop_after(),
        Fault.drift(),
    )
    patient = client.with_options(retry=co.RetryPolicy(attempts=8))
    capsule_model = await patient.capsules.get(capsule)
    assert capsule_model.id == capsule
    assert capsule_model.status == "under_review"  # a status no SDK knows: kept, readable
    assert not capsule_model.status.known
    assert len(codeocean_fake.faults.injected) == 7
    assert sum(1 for r in codeocean_fake.requests if r.method == "GET") == 7


async def test_a_500_on_a_read_is_not_retried(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    codeocean_fake.faults.script("GET", "/capsules/*", Fault.server_error(500))
    with pytest.raises(co.ServerError):
        await client.capsules.get(capsule)
    assert len(codeocean_fake.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [Fault.drop_after(), Fault.truncated_json(), Fault.malformed_json()],
)
async def test_a_run_that_acted_without_an_answer_is_reconciled_not_duplicated(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str, fault: Fault
) -> None:
    codeocean_fake.faults.script("POST", "/computations", fault)
    run = await client.with_options(retry=QUICK).computations.run(
        capsule_id=capsule, parameters=["x"], on_uncertain="reconcile"
    )
    assert codeocean_fake.created_computations == [run.id]
    assert _posts(codeocean_fake) == 1


@pytest.mark.parametrize(
    "fault",
    [
        Fault.drop_before(),
        Fault.server_error(503),
        Fault.server_error(502, html=True),
        Fault.server_error(500),
    ],
)
async def test_a_run_that_did_not_act_is_reported_not_resent(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str, fault: Fault
) -> None:
    codeocean_fake.faults.script("POST", "/computations", fault)
    with pytest.raises(co.LaunchUncertainError):
        await client.with_options(retry=QUICK).computations.run(
            capsule_id=capsule, on_uncertain="reconcile"
        )
    assert codeocean_fake.created_computations == []
    assert _posts(codeocean_fake) == 1


async def test_a_rate_limited_run_is_launched_once(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    codeocean_fake.faults.script(
        "POST", "/computations", Fault.rate_limited(retry_after=1), Fault.rate_limited()
    )
    run = await client.computations.run(capsule_id=capsule)
    assert codeocean_fake.created_computations == [run.id]
    assert _posts(codeocean_fake) == 3


async def test_a_wait_rides_out_faults_while_polling(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    codeocean_fake.faults.random(
        "GET",
        "/computations/*",
        rate=0.5,
        choices=[
            Fault.rate_limited(),
            Fault.server_error(503),
            Fault.drop_before(),
            Fault.drop_after(),
            Fault.drift(),
        ],
        seed=3,
    )
    final = await client.computations.wait_for_completion(run, timeout=30)
    assert final.outcome is co.Outcome.SUCCEEDED


# --- over real sockets ----------------------------------------------------------------------------


@pytest.fixture
def served(codeocean_fake: FakeCodeOcean) -> Iterator[str]:
    with serve_in_thread(codeocean_fake) as url:
        yield url


def _socket_client(
    fake: FakeCodeOcean, url: str, engine: Engine, **kwargs: Any
) -> co.AsyncCodeOcean:
    return co.AsyncCodeOcean(domain=url, token=fake.token, poll=FAST_POLL, engine=engine, **kwargs)


async def test_socket_drop_after_acting_is_reconciled(
    codeocean_fake: FakeCodeOcean, capsule: str, served: str, engine: Engine
) -> None:
    codeocean_fake.faults.script("POST", "/computations", Fault.drop_after())
    async with _socket_client(
        codeocean_fake, served, engine, retry=QUICK, on_uncertain="reconcile"
    ) as client:
        run = await client.computations.run(capsule_id=capsule, version=1)
    assert codeocean_fake.created_computations == [run.id]


async def test_socket_drop_before_acting_stays_uncertain(
    codeocean_fake: FakeCodeOcean, capsule: str, served: str, engine: Engine
) -> None:
    codeocean_fake.faults.script("POST", "/computations", Fault.drop_before())
    async with _socket_client(
        codeocean_fake, served, engine, retry=QUICK, on_uncertain="reconcile"
    ) as client:
        with pytest.raises(co.LaunchUncertainError) as info:
            await client.computations.run(capsule_id=capsule)
    cause = info.value.__cause__
    assert isinstance(cause, co.APIConnectionError)
    assert cause.maybe_sent
    if engine == "httpx":  # httpcore saw the request go out: that is why it is uncertain
        assert isinstance(cause.__cause__, httpx.RemoteProtocolError)
    else:  # no wire evidence from aiohttp: any failure after sending may have arrived
        assert isinstance(cause.__cause__, httpx.TransportError)
    assert codeocean_fake.created_computations == []
    assert _posts(codeocean_fake) == 1


async def test_socket_drops_on_reads_are_retried(
    codeocean_fake: FakeCodeOcean, capsule: str, served: str, engine: Engine
) -> None:
    codeocean_fake.faults.script("GET", "/capsules/*", Fault.drop_before(), Fault.drop_after())
    async with _socket_client(codeocean_fake, served, engine) as client:
        assert (await client.capsules.get(capsule)).id == capsule
    assert sum(1 for r in codeocean_fake.requests if r.method == "GET") == 3


async def test_socket_read_timeout_on_a_read_is_retried(
    codeocean_fake: FakeCodeOcean, capsule: str, served: str, engine: Engine
) -> None:
    codeocean_fake.faults.script("GET", "/capsules/*", Fault.slow(1.0))
    async with _socket_client(codeocean_fake, served, engine, timeout=httpx.Timeout(0.2)) as client:
        assert (await client.capsules.get(capsule)).id == capsule


async def test_socket_read_timeout_on_a_run_is_uncertain_then_reconciled(
    codeocean_fake: FakeCodeOcean, capsule: str, served: str, engine: Engine
) -> None:
    # The server acts after the client gave up waiting for the answer: the run exists, and the
    # reconciliation's later looks (after the settle delay) find it.
    codeocean_fake.faults.script("POST", "/computations", Fault.slow(0.5))
    policy = co.RetryPolicy(settle=0.4, reconcile_attempts=4)
    async with _socket_client(
        codeocean_fake,
        served,
        engine,
        timeout=httpx.Timeout(0.2),
        retry=policy,
        on_uncertain="reconcile",
    ) as client:
        run = await client.computations.run(capsule_id=capsule)
    assert codeocean_fake.created_computations == [run.id]
    assert _posts(codeocean_fake) == 1


async def test_socket_truncated_body_on_a_read_is_a_validation_error(
    codeocean_fake: FakeCodeOcean, capsule: str, served: str, engine: Engine
) -> None:
    codeocean_fake.faults.script("GET", "/capsules/*", Fault.truncated_json())
    async with _socket_client(codeocean_fake, served, engine) as client:
        with pytest.raises(co.ResponseValidationError, match="not JSON"):
            await client.capsules.get(capsule)
