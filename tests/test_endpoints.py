"""Each endpoint against the fake Code Ocean: the exact request sent and the decoded answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, RecordedRequest

pytestmark = pytest.mark.anyio

SEED_CAPSULE = "4bc97533-6eb4-48ac-966f-648548a756d2"
SEED_ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


def _only_request(fake: FakeCodeOcean) -> RecordedRequest:
    (request,) = fake.requests
    assert request.auth_ok
    return request


def _sent(fake: FakeCodeOcean) -> tuple[str, str, dict[str, str], Any]:
    request = _only_request(fake)
    return request.method, request.path, request.query, request.body


@pytest.fixture
def client(client_by_either_route: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    """Every endpoint test runs on both routes: the SDK's own transport and a caller's client."""
    return client_by_either_route


@pytest.fixture
def seeded(codeocean_fake: FakeCodeOcean) -> FakeCodeOcean:
    codeocean_fake.add_capsule(
        id=SEED_CAPSULE, name="deepTools-bamCoverage", versions=(1, 2), tags=("ChIP",)
    )
    codeocean_fake.add_data_asset(id=SEED_ASSET, name="Alignment", mount="Alignment")
    codeocean_fake.add_pipeline(id="pipe-1", name="Sorting pipeline")
    return codeocean_fake


async def test_capsules_get(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    capsule = await client.capsules.get(SEED_CAPSULE)
    assert _sent(seeded) == ("GET", f"/api/v1/capsules/{SEED_CAPSULE}", {}, None)
    assert capsule.id == SEED_CAPSULE
    assert capsule.name == "deepTools-bamCoverage"
    assert capsule.status is co.CapsuleStatus.RELEASE
    assert capsule.tags == ("ChIP",)
    assert capsule.versions is not None
    assert [v.major_version for v in capsule.versions] == [1, 2]


async def test_pipelines_get(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    pipeline = await client.pipelines.get("pipe-1")
    assert _sent(seeded) == ("GET", "/api/v1/pipelines/pipe-1", {}, None)
    assert pipeline.name == "Sorting pipeline"
    assert pipeline.status is co.CapsuleStatus.NON_RELEASE


async def test_capsules_list_computations(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    first = seeded.add_computation(capsule_id=SEED_CAPSULE, outcome="succeeded")
    second = seeded.add_computation(capsule_id=SEED_CAPSULE, outcome="failed")
    seeded.add_computation(pipeline_id="pipe-1")  # another parent's run is not listed
    computations = await client.capsules.list_computations(SEED_CAPSULE)
    assert _sent(seeded) == ("GET", f"/api/v1/capsules/{SEED_CAPSULE}/computations", {}, None)
    assert [c.id for c in computations] == [first["id"], second["id"]]
    assert [c.outcome for c in computations] == [co.Outcome.SUCCEEDED, co.Outcome.FAILED]


async def test_pipelines_list_computations(
    client: co.AsyncCodeOcean, seeded: FakeCodeOcean
) -> None:
    run = seeded.add_computation(pipeline_id="pipe-1")
    computations = await client.pipelines.list_computations("pipe-1")
    assert _sent(seeded) == ("GET", "/api/v1/pipelines/pipe-1/computations", {}, None)
    assert [c.id for c in computations] == [run["id"]]


async def test_run_plain(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    run = await client.computations.run(capsule_id=SEED_CAPSULE)
    assert _sent(seeded) == ("POST", "/api/v1/computations", {}, {"capsule_id": SEED_CAPSULE})
    assert run.state is co.ComputationState.INITIALIZING
    assert run.outcome is co.Outcome.NOT_FINISHED
    assert run.id == seeded.created_computations[0]
    assert run.name.startswith("Run ")


async def test_run_version(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    await client.computations.run(capsule_id=SEED_CAPSULE, version=2)
    assert _sent(seeded)[3] == {"capsule_id": SEED_CAPSULE, "version": 2}


async def test_run_with_data_assets(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    run = await client.computations.run(
        capsule_id=SEED_CAPSULE, data_assets=[co.DataAssetsRunParam(SEED_ASSET, mount="Alignment")]
    )
    assert _sent(seeded)[3] == {
        "capsule_id": SEED_CAPSULE,
        "data_assets": [{"id": SEED_ASSET, "mount": "Alignment"}],
    }
    assert run.data_assets == (co.InputDataAsset(id=SEED_ASSET, mount="Alignment"),)


async def test_run_with_parameters(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    run = await client.computations.run(
        capsule_id=SEED_CAPSULE,
        data_assets=[SEED_ASSET],  # a bare ID: mounted where the capsule expects it
        parameters=["10", "fast"],
        named_parameters={"threshold": "0.5"},
        resume_run_id="previous-run",
    )
    assert _sent(seeded)[3] == {
        "capsule_id": SEED_CAPSULE,
        "data_assets": [{"id": SEED_ASSET}],
        "parameters": ["10", "fast"],
        "named_parameters": [{"param_name": "threshold", "value": "0.5"}],
        "resume_run_id": "previous-run",
    }
    assert run.parameters is not None
    assert {p.param_name: p.value for p in run.parameters if p.param_name} == {"threshold": "0.5"}


async def test_run_pipeline(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    await client.computations.run(
        pipeline_id="pipe-1",
        nextflow_profile="local",
        processes=[co.PipelineProcessParams("sort", named_parameters={"n": "4"})],
    )
    assert _sent(seeded)[3] == {
        "pipeline_id": "pipe-1",
        "nextflow_profile": "local",
        "processes": [{"name": "sort", "named_parameters": [{"param_name": "n", "value": "4"}]}],
    }


async def test_run_accepts_a_prepared_run_params(
    client: co.AsyncCodeOcean, seeded: FakeCodeOcean
) -> None:
    spec = co.from_json(co.RunParams, co.to_json(co.RunParams(capsule_id=SEED_CAPSULE, version=1)))
    await client.computations.run(spec)
    assert _sent(seeded)[3] == {"capsule_id": SEED_CAPSULE, "version": 1}


@pytest.mark.parametrize(
    ("args", "kwargs", "error"),
    [
        ((), {}, ValueError),
        ((), {"capsule_id": "a", "pipeline_id": "b"}, ValueError),
        ((co.RunParams(capsule_id="a"),), {"version": 2}, ValueError),
        (({"capsule_id": "a"},), {}, TypeError),
        ((), {"capsule_id": ""}, ValueError),
        ((), {"capsule_id": "a", "data_assets": [""]}, ValueError),
        ((), {"capsule_id": "a", "data_assets": ["a b"]}, ValueError),
        ((), {"capsule_id": "a", "version": -1}, ValueError),
    ],
)
async def test_bad_runs_are_refused_before_any_request(
    client: co.AsyncCodeOcean,
    seeded: FakeCodeOcean,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        await client.computations.run(*args, **kwargs)
    assert seeded.requests == []


async def test_data_assets_get(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    asset = await client.data_assets.get(SEED_ASSET)
    assert _sent(seeded) == ("GET", f"/api/v1/data_assets/{SEED_ASSET}", {}, None)
    assert _only_request(seeded).headers["min-server-version"] == "2.18.0"
    assert (asset.id, asset.name, asset.mount) == (SEED_ASSET, "Alignment", "Alignment")
    assert asset.state is co.DataAssetState.READY
    assert asset.ready
    assert asset.type is co.DataAssetType.DATASET


async def test_computations_get(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    made = seeded.add_computation(capsule_id=SEED_CAPSULE, outcome="failed_start")
    computation = await client.computations.get(made["id"])
    assert _sent(seeded) == ("GET", f"/api/v1/computations/{made['id']}", {}, None)
    assert computation.outcome is co.Outcome.FAILED_START
    assert computation.has_results is False


async def test_computations_delete_stops_a_running_run(
    client: co.AsyncCodeOcean, seeded: FakeCodeOcean
) -> None:
    run = await client.computations.run(capsule_id=SEED_CAPSULE)
    seeded.reset_requests()
    await client.computations.delete(run.id)
    assert _sent(seeded) == ("DELETE", f"/api/v1/computations/{run.id}", {}, None)
    stopped = await client.computations.get(run.id)
    assert stopped.outcome is co.Outcome.STOPPED


async def test_computations_rename(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    run = await client.computations.run(capsule_id=SEED_CAPSULE)
    seeded.reset_requests()
    await client.computations.rename(run.id, name="batch 7 / sample A")
    assert _sent(seeded) == (
        "PATCH",
        f"/api/v1/computations/{run.id}",
        {"name": "batch 7 / sample A"},
        None,
    )
    assert (await client.computations.get(run.id)).name == "batch 7 / sample A"
    with pytest.raises(ValueError, match="name"):
        await client.computations.rename(run.id, name=" ")


@pytest.mark.parametrize(
    "bad_id", ["", "a/b", "..", ".", "a?b", "a#b", "a b", "tab\there", "new\nline", "\x00", "a%2Fb"]
)
async def test_malformed_ids_never_reach_the_server(
    client: co.AsyncCodeOcean, seeded: FakeCodeOcean, bad_id: str
) -> None:
    calls = [
        client.capsules.get(bad_id),
        client.capsules.list_computations(bad_id),
        client.pipelines.get(bad_id),
        client.pipelines.list_computations(bad_id),
        client.computations.get(bad_id),
        client.computations.delete(bad_id),
        client.computations.rename(bad_id, name="x"),
    ]
    for call in calls:
        with pytest.raises(ValueError):
            await call
    assert seeded.requests == []


async def test_ids_must_be_strings(client: co.AsyncCodeOcean, seeded: FakeCodeOcean) -> None:
    with pytest.raises(TypeError, match="capsule_id"):
        await client.capsules.get(42)  # type: ignore[arg-type]
    assert seeded.requests == []


# --- the fake's errors, mapped ------------------------------------------------------------------


async def test_unknown_ids_raise_not_found(
    client: co.AsyncCodeOcean, seeded: FakeCodeOcean
) -> None:
    for call in (
        client.capsules.get("missing"),
        client.capsules.list_computations("missing"),
        client.pipelines.get(SEED_CAPSULE),  # a capsule is not a pipeline
        client.computations.get("missing"),
        client.computations.delete("missing"),
        client.computations.run(capsule_id="missing"),
    ):
        with pytest.raises(co.NotFoundError) as info:
            await call
        assert info.value.status_code == 404
        assert info.value.message


async def test_bad_request_from_the_server(
    client: co.AsyncCodeOcean, seeded: FakeCodeOcean
) -> None:
    with pytest.raises(co.BadRequestError) as info:
        await client.computations.run(capsule_id=SEED_CAPSULE, version=9)
    assert info.value.status_code == 400
    assert "version" in info.value.message.lower()
    with pytest.raises(co.BadRequestError, match="unknown-asset"):
        await client.computations.run(capsule_id=SEED_CAPSULE, data_assets=["unknown-asset"])


async def test_wrong_token_raises_authentication_error(seeded: FakeCodeOcean) -> None:
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token="cop_wrong",
        transport=httpx.ASGITransport(app=seeded),
        allow_insecure_http=True,
    ) as client:
        with pytest.raises(co.AuthenticationError) as info:
            await client.capsules.get(SEED_CAPSULE)
    assert info.value.status_code == 401
    assert seeded.requests[0].auth_ok is False


def _client_of(fake: FakeCodeOcean) -> co.AsyncCodeOcean:
    return co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=httpx.ASGITransport(app=fake),
        allow_insecure_http=True,
    )


async def test_an_older_server_serves_the_operations_it_has(
    codeocean_fake: FakeCodeOcean,
) -> None:
    old = FakeCodeOcean(token=codeocean_fake.token, server_version="4.6.0")
    old.add_capsule(id="c")
    async with _client_of(old) as client:
        assert (await client.capsules.get("c")).id == "c"
        run = await client.computations.run(capsule_id="c")
        assert (await client.computations.get(run.id)).id == run.id
    sent = [r.headers["min-server-version"] for r in old.requests]
    assert sent == ["2.18.0", "2.18.0", "2.18.0"]


async def test_a_refusal_for_version_reasons_names_the_operation_and_its_version(
    codeocean_fake: FakeCodeOcean,
) -> None:
    old = FakeCodeOcean(token=codeocean_fake.token, server_version="4.0.0")
    pipeline = old.add_pipeline()["id"]
    async with _client_of(old) as client:
        with pytest.raises(co.ServerVersionError) as caught:
            await client.pipelines.get(pipeline)
    error = caught.value
    assert isinstance(error, co.BadRequestError)
    assert error.status_code == 400
    assert (error.operation, error.min_version) == ("pipelines.get", "4.1.0")
    assert str(error).startswith("400 on GET http://codeocean.test/api/v1/pipelines/")
    assert "pipelines.get needs Code Ocean 4.1.0 or later" in str(error)


async def test_a_pipeline_run_asks_for_the_pipelines_era(codeocean_fake: FakeCodeOcean) -> None:
    old = FakeCodeOcean(token=codeocean_fake.token, server_version="4.0.0")
    pipeline = old.add_pipeline()["id"]
    async with _client_of(old) as client:
        with pytest.raises(co.ServerVersionError, match=r"computations\.run needs .* 4\.1\.0"):
            await client.computations.run(pipeline_id=pipeline)
    assert old.created_computations == []  # refused: nothing started, nothing uncertain
    older = FakeCodeOcean(token=codeocean_fake.token, server_version="3.5.0")
    capsule = older.add_capsule()["id"]
    async with _client_of(older) as client:
        with pytest.raises(co.ServerVersionError, match=r"3\.6\.0"):
            await client.computations.run(capsule_id=capsule, nextflow_profile="x")
        assert (await client.computations.run(capsule_id=capsule)).id  # no profile: 2.18
