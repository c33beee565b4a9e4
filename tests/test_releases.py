"""Releases against the fake: the release request (never resent), validation issues as a typed
error, the release job, and waiting on it on the fake's ManualClock."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

import codeocean_async as co
from codeocean_async._operations import operation
from codeocean_async.testing import FakeCodeOcean, Fault, ManualClock

from .conftest import mock_client
from .parents import add_parent, routes_of

pytestmark = pytest.mark.anyio


@pytest.fixture(params=("capsules", "pipelines"))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(client_by_either_route: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    return client_by_either_route


def _advance(fake: FakeCodeOcean, seconds: float) -> None:
    assert isinstance(fake.clock, ManualClock)
    fake.clock.advance(seconds)


async def test_release_and_its_job(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(codeocean_fake, kind, versions=(1, 2))
    routes = routes_of(client, kind)
    job = await routes.release(parent_id)
    (request,) = codeocean_fake.requests
    assert (request.method, request.path, request.query, request.body) == (
        "POST",
        f"/api/v1/{kind}/{parent_id}/release",
        {},
        None,
    )
    assert request.headers["min-server-version"] == operation(f"{kind}.release").min_version
    assert job.status is co.CapsuleReleaseJobStatus.CREATED
    assert not job.finished
    codeocean_fake.reset_requests()
    _advance(codeocean_fake, 1.5)
    started = await routes.get_release_job(parent_id, job.job_id)
    (request,) = codeocean_fake.requests
    assert (request.method, request.path) == (
        "GET",
        f"/api/v1/{kind}/{parent_id}/release/{job.job_id}",
    )
    assert request.headers["min-server-version"] == "4.8.0"
    assert started.status is co.CapsuleReleaseJobStatus.STARTED
    assert started.started is not None
    _advance(codeocean_fake, 1)
    done = await routes.get_release_job(parent_id, job.job_id)
    assert done.succeeded
    assert done.finished
    assert done.release_version is not None
    assert (done.release_version.major_version, done.release_version.minor_version) == (3, 0)
    assert done.release_capsule is not None
    with pytest.raises(co.NotFoundError):
        await routes.get_release_job(parent_id, "no-such-job")


async def test_decoding_a_documented_job() -> None:
    job = co.from_json(
        co.CapsuleReleaseJob,
        '{"job_id": "j1", "status": "completed", "started": 1700000000, "duration": 42,'
        ' "release_capsule": "rc", "release_version": {"major_version": 2, "minor_version": 1,'
        ' "release_time": 1700000042, "doi": "10.24433/CO.1"}, "unknown": 1}',
    )
    assert job.duration == 42
    assert job.release_version == co.Version(
        major_version=2, minor_version=1, release_time=1700000042, doi="10.24433/CO.1"
    )
    assert (
        co.from_json(co.CapsuleReleaseJob, '{"job_id": "j", "status": "paused"}').status.known
        is False
    )
    assert co.CapsuleReleaseJob(job_id="j", status="canceling").finished is False  # type: ignore[arg-type]


async def test_validation_issues_are_a_typed_error(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(codeocean_fake, kind, versions=(1,))
    codeocean_fake.plan_release(issues=("uncommitted_files", "missing_reproducible_run"))
    with pytest.raises(co.ReleaseValidationError) as caught:
        await routes_of(client, kind).release(parent_id)
    error = caught.value
    assert isinstance(error, co.PermissionDeniedError)
    assert error.status_code == 403
    assert error.issues == co.CapsuleReleaseValidationIssues(
        uncommitted_files=True, missing_reproducible_run=True
    )
    assert error.issues.flags == ("missing_reproducible_run", "uncommitted_files")
    assert "a reproducible run of the latest code" in str(error)
    assert "every file committed" in str(error)


@pytest.mark.parametrize(
    "body", [{"message": "the token lacks the Capsule write scope"}, {"uncommitted_files": False}]
)
async def test_a_403_without_flags_stays_a_permission_error(body: dict[str, Any]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json=body)

    async with mock_client(handler) as client:
        with pytest.raises(co.PermissionDeniedError) as caught:
            await client.capsules.release("c1")
    assert not isinstance(caught.value, co.ReleaseValidationError)


async def test_never_released_is_a_bad_request(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    with pytest.raises(co.BadRequestError, match="never released") as caught:
        await routes_of(client, kind).release(add_parent(codeocean_fake, kind))
    assert not isinstance(caught.value, co.ServerVersionError)


async def test_a_release_is_never_resent(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(versions=(1,))["id"]
    codeocean_fake.faults.script("POST", "/capsules/*/release", Fault.server_error(503))
    with pytest.raises(co.ServerError):
        await client.capsules.release(capsule)
    assert len(codeocean_fake.requests) == 1


async def _advance_soon(fake: FakeCodeOcean, seconds: float) -> None:
    await anyio.sleep(0.02)
    _advance(fake, seconds)


async def test_wait_until_release_completed(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(codeocean_fake, kind, versions=(1,))
    routes = routes_of(client, kind)
    job = await routes.release(parent_id)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_advance_soon, codeocean_fake, 5)
        done = await routes.wait_until_release_completed(parent_id, job, timeout=10)
    assert done.status is co.CapsuleReleaseJobStatus.COMPLETED
    again = await routes.wait_until_release_completed(parent_id, job.job_id, timeout=0)
    assert again == done


async def test_a_failed_release_raises(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(codeocean_fake, kind, versions=(1,))
    routes = routes_of(client, kind)
    codeocean_fake.plan_release(outcome="failed", error="build failed", durations=(0, 0))
    job = await routes.release(parent_id)
    with pytest.raises(co.ReleaseFailedError, match="build failed") as caught:
        await routes.wait_until_release_completed(parent_id, job)
    assert isinstance(caught.value, co.WaitError)
    assert caught.value.job.status is co.CapsuleReleaseJobStatus.FAILED
    assert caught.value.job.error == "build failed"
    final = await routes.wait_until_release_completed(parent_id, job, raise_on_failure=False)
    assert final.status is co.CapsuleReleaseJobStatus.FAILED


async def test_a_canceled_release_raises(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(versions=(1,))["id"]
    codeocean_fake.plan_release(outcome="canceled", durations=(0, 0))
    job = await client.capsules.release(capsule)
    with pytest.raises(co.ReleaseFailedError, match="canceled"):
        await client.capsules.wait_until_release_completed(capsule, job.job_id)


async def test_a_release_wait_times_out_with_the_last_state(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(versions=(1,))["id"]
    job = await client.capsules.release(capsule)
    with pytest.raises(co.WaitTimeoutError) as caught:
        await client.capsules.wait_until_release_completed(capsule, job.job_id, timeout=0.05)
    assert isinstance(caught.value.last, co.CapsuleReleaseJob)
    assert caught.value.last.status is co.CapsuleReleaseJobStatus.CREATED
    with pytest.raises(ValueError):
        await client.capsules.wait_until_release_completed("a/b", job)
    with pytest.raises(ValueError):
        await client.capsules.wait_until_release_completed(capsule, job, timeout=-1)


async def test_a_deployment_older_than_4_8_cannot_release(codeocean_fake: FakeCodeOcean) -> None:
    codeocean_fake.server_version = "4.7.0"
    capsule = codeocean_fake.add_capsule(versions=(1,))["id"]
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),
        allow_insecure_http=True,
    ) as client:
        with pytest.raises(co.ServerVersionError, match=r"capsules\.release"):
            await client.capsules.release(capsule)


def test_plan_release_checks_its_arguments() -> None:
    fake = FakeCodeOcean()
    with pytest.raises(ValueError, match="outcome"):
        fake.plan_release(outcome="exploded")
    with pytest.raises(ValueError, match="issues"):
        fake.plan_release(issues=("too_pretty",))
    with pytest.raises(ValueError, match="durations"):
        fake.plan_release(durations=(1,))
