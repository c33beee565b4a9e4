"""Waiting until a data asset is ready, and captures: a computation's results as a new data
asset in one call, never resent blindly, reconciled when asked."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import pytest

import codeocean_async as co
from codeocean_async._transport import Engine
from codeocean_async.testing import FakeCodeOcean, Fault, ManualClock, serve_in_thread

from .conftest import FAST_POLL

pytestmark = pytest.mark.anyio

CAPSULE = "cap-1"
QUICK = co.RetryPolicy(settle=0.01)


@pytest.fixture
def codeocean_fake() -> FakeCodeOcean:
    """On a ManualClock whose epoch is today's, as a reconciliation reads ``created``."""
    fake = FakeCodeOcean(clock=ManualClock(), base_time=int(time.time()))
    fake.add_capsule(id=CAPSULE, run_durations=(0, 0, 0))
    return fake


@pytest.fixture
def clock(codeocean_fake: FakeCodeOcean) -> ManualClock:
    assert isinstance(codeocean_fake.clock, ManualClock)
    return codeocean_fake.clock


async def _draft(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> co.DataAsset:
    run = fake.add_computation(capsule_id=CAPSULE)["id"]
    return await client.data_assets.capture(run, name="out", mount="out", wait=False)


async def _advance_after_a_look(fake: FakeCodeOcean, clock: ManualClock, seconds: float) -> None:
    """Move the clock once the client has looked at a data asset at least once."""
    while not any(r.method == "GET" and "/data_assets/" in r.path for r in fake.requests):  # noqa: ASYNC110 - the fake has no event for this
        await anyio.sleep(0.001)
    clock.advance(seconds)


async def test_wait_until_ready_follows_draft_to_ready(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, clock: ManualClock
) -> None:
    asset = await _draft(client, codeocean_fake)
    assert asset.state is co.DataAssetState.DRAFT
    async with anyio.create_task_group() as tg:
        tg.start_soon(_advance_after_a_look, codeocean_fake, clock, 1.0)
        with anyio.fail_after(10):
            ready = await client.data_assets.wait_until_ready(asset.id)
    assert ready.ready
    assert ready.id == asset.id
    states = [r for r in codeocean_fake.requests if r.method == "GET"]
    assert len(states) >= 2


async def test_wait_until_ready_raises_the_failure_reason(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    codeocean_fake.plan_next_data_asset(outcome="failed", reason="bucket not found", delay=0)
    asset = await _draft(client, codeocean_fake)
    with pytest.raises(co.DataAssetFailedError, match="bucket not found") as info:
        await client.data_assets.wait_until_ready(asset)
    assert isinstance(info.value, co.WaitError)
    assert info.value.data_asset.failure_reason == "bucket not found"
    assert info.value.last is info.value.data_asset
    failed = await client.data_assets.wait_until_ready(asset, raise_on_failure=False)
    assert failed.state is co.DataAssetState.FAILED


async def test_wait_until_ready_deadline_carries_the_last_state(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    asset = await _draft(client, codeocean_fake)
    for timeout in (0, 0.02):
        with pytest.raises(co.WaitTimeoutError, match="become ready") as info:
            await client.data_assets.wait_until_ready(asset.id, timeout=timeout)
        assert isinstance(info.value.last, co.DataAsset)
        assert info.value.last.state is co.DataAssetState.DRAFT
        assert info.value.computation is None


async def test_wait_until_ready_is_cancelled_cleanly(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    asset = await _draft(client, codeocean_fake)
    with anyio.move_on_after(0.02) as scope:
        await client.data_assets.wait_until_ready(asset)
    assert scope.cancelled_caught


async def test_wait_until_ready_refuses_a_bad_id(client: co.AsyncCodeOcean) -> None:
    with pytest.raises(ValueError, match="data_asset_id"):
        await client.data_assets.wait_until_ready("../x")


async def test_capture_end_to_end(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, clock: ManualClock
) -> None:
    """Run, wait until completed, capture its results, wait until the asset is ready."""
    run = await client.computations.run(capsule_id=CAPSULE)
    done = await client.computations.wait_for_completion(run, raise_on_failure=True)
    codeocean_fake.reset_requests()
    async with anyio.create_task_group() as tg:
        tg.start_soon(_advance_after_a_look, codeocean_fake, clock, 1.0)
        with anyio.fail_after(10):
            asset = await client.data_assets.capture(
                done, name="sorted", mount="sorted", tags=["mouse"], path="out", timeout=60
            )
    post = codeocean_fake.requests[0]
    assert (post.method, post.path) == ("POST", "/api/v1/data_assets")
    assert post.body == {
        "name": "sorted",
        "mount": "sorted",
        "tags": ["mouse"],
        "source": {"computation": {"id": run.id, "path": "out"}},
    }
    assert post.headers["min-server-version"] == "2.18.0"
    assert asset.ready
    assert asset.type is co.DataAssetType.RESULT
    assert asset.provenance is not None
    assert asset.provenance.computation == run.id
    assert asset.provenance.capsule == CAPSULE
    assert codeocean_fake.created_data_assets == [asset.id]


async def test_capture_timeout_covers_the_wait(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    with pytest.raises(co.WaitTimeoutError) as info:
        await client.data_assets.capture(run, name="n", mount="m", timeout=0.02)
    assert isinstance(info.value.last, co.DataAsset)
    assert info.value.last.state is co.DataAssetState.DRAFT
    assert len(codeocean_fake.created_data_assets) == 1


async def test_capture_raises_a_failed_asset(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    codeocean_fake.plan_next_data_asset(outcome="failed", reason="quota", delay=0)
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    with pytest.raises(co.DataAssetFailedError, match="quota"):
        await client.data_assets.capture(run, name="n", mount="m")


async def test_capture_refuses_bad_input_before_sending(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    with pytest.raises(ValueError, match="computation_id"):
        await client.data_assets.capture("a/b", name="n", mount="m")
    with pytest.raises(ValueError, match="name"):
        await client.data_assets.capture("run", name=" ", mount="m")
    with pytest.raises(TypeError, match="tags"):
        await client.data_assets.capture("run", name="n", mount="m", tags="one")
    with pytest.raises(ValueError, match="timeout"):
        await client.data_assets.capture("run", name="n", mount="m", timeout=-1)
    with pytest.raises(ValueError, match="on_uncertain"):
        await client.data_assets.capture(
            "run",
            name="n",
            mount="m",
            on_uncertain="guess",  # type: ignore[arg-type]
        )
    assert codeocean_fake.requests == []


async def test_capture_of_a_run_without_results_is_400(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    running = codeocean_fake.add_computation(capsule_id=CAPSULE, durations=(9, 9, 9))["id"]
    with pytest.raises(co.BadRequestError, match="no results"):
        await client.data_assets.capture(running, name="n", mount="m")


def _posts(fake: FakeCodeOcean) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path.endswith("/data_assets"))


@pytest.fixture
def quick(client: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    """The client, reconciling quickly (its looks ``QUICK.settle`` apart)."""
    return client.with_options(retry=QUICK)


@pytest.mark.parametrize("fault", [Fault.drop_after(), Fault.server_error(502)])
async def test_capture_is_not_resent_once_it_may_have_arrived(
    quick: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, fault: Fault
) -> None:
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    codeocean_fake.faults.script("POST", "/data_assets", fault)
    with pytest.raises(co.LaunchUncertainError, match="capture request") as info:
        await quick.data_assets.capture(run, name="n", mount="m", on_uncertain="raise")
    assert "on_uncertain='reconcile'" in str(info.value)
    assert info.value.request.url.path == "/api/v1/data_assets"
    assert _posts(codeocean_fake) == 1
    acted = fault.acts
    assert len(codeocean_fake.created_data_assets) == (1 if acted else 0)


async def test_create_is_not_resent_either(
    quick: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    codeocean_fake.faults.script("POST", "/data_assets", Fault.drop_after())
    params = co.DataAssetParams(
        name="n", mount="m", tags=[], source=co.Source(gcp=co.GCPCloudStorageSource(bucket="g"))
    )
    with pytest.raises(co.LaunchUncertainError, match="data asset create"):
        await quick.data_assets.create(params)
    assert _posts(codeocean_fake) == 1
    assert len(codeocean_fake.created_data_assets) == 1


async def test_a_429_on_capture_is_retried(
    quick: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    codeocean_fake.faults.script("POST", "/data_assets", Fault.rate_limited(0))
    asset = await quick.data_assets.capture(run, name="n", mount="m", wait=False)
    assert codeocean_fake.created_data_assets == [asset.id]
    assert _posts(codeocean_fake) == 2


async def test_reconcile_finds_the_asset_the_capture_created(
    quick: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    codeocean_fake.faults.script("POST", "/data_assets", Fault.drop_after())
    codeocean_fake.data_asset_delay = 0
    asset = await quick.data_assets.capture(run, name="n", mount="m", on_uncertain="reconcile")
    assert codeocean_fake.created_data_assets == [asset.id]
    assert asset.ready
    assert _posts(codeocean_fake) == 1
    search = next(r for r in codeocean_fake.requests if r.path.endswith("/search"))
    assert search.body["query"] == 'name:"n"'


async def test_reconcile_never_adopts_an_older_asset(
    quick: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    """An asset of the same name from the same run, made before the request, is not it."""
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    older = codeocean_fake.add_data_asset(name="n", mount="m")
    older.update({"created": older["created"] - 3600, "provenance": {"computation": run}})
    codeocean_fake.faults.script("POST", "/data_assets", Fault.drop_before())
    with pytest.raises(co.LaunchUncertainError, match="found none"):
        await quick.data_assets.capture(run, name="n", mount="m", on_uncertain="reconcile")
    assert codeocean_fake.created_data_assets == []
    assert _posts(codeocean_fake) == 1


async def test_reconcile_ignores_other_runs_and_names(
    quick: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    other = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    await quick.data_assets.capture(other, name="n", mount="m", wait=False)  # another run's
    codeocean_fake.faults.script("POST", "/data_assets", Fault.drop_before())
    with pytest.raises(co.LaunchUncertainError):
        await quick.data_assets.capture(run, name="n", mount="m", on_uncertain="reconcile")


async def test_client_default_on_uncertain_applies(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    reconciling = client.with_options(retry=QUICK, on_uncertain="reconcile")
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    codeocean_fake.faults.script("POST", "/data_assets", Fault.drop_after())
    asset = await reconciling.data_assets.capture(run, name="n", mount="m", wait=False)
    assert codeocean_fake.created_data_assets == [asset.id]


# --- over sockets ---------------------------------------------------------------------------


@pytest.fixture
def served(codeocean_fake: FakeCodeOcean) -> Iterator[str]:
    with serve_in_thread(codeocean_fake) as url:
        yield url


@pytest.mark.usefixtures("no_proxies")
async def test_socket_capture_dropped_after_acting_is_reconciled(
    codeocean_fake: FakeCodeOcean, served: str, engine: Engine
) -> None:
    run = codeocean_fake.add_computation(capsule_id=CAPSULE)["id"]
    codeocean_fake.faults.script("POST", "/data_assets", Fault.drop_after())
    codeocean_fake.data_asset_delay = 0
    async with co.AsyncCodeOcean(
        domain=served,
        token=codeocean_fake.token,
        poll=FAST_POLL,
        engine=engine,
        retry=QUICK,
        on_uncertain="reconcile",
    ) as client:
        asset = await client.data_assets.capture(run, name="n", mount="m")
    assert asset.ready
    assert codeocean_fake.created_data_assets == [asset.id]
    assert _posts(codeocean_fake) == 1
