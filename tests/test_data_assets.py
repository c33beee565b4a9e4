"""Each data asset and custom metadata endpoint against the fake: the exact request sent
(method, path, query, body, Min-Server-Version) and the decoded answer, on both routes."""

from __future__ import annotations

from typing import Any

import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean

from .test_endpoints import _only_request, _sent

pytestmark = pytest.mark.anyio

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"
CAPSULE = "4bc97533-6eb4-48ac-966f-648548a756d2"


@pytest.fixture
def client(client_by_either_route: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    return client_by_either_route


@pytest.fixture
def fake(codeocean_fake: FakeCodeOcean) -> FakeCodeOcean:
    codeocean_fake.add_capsule(id=CAPSULE, name="deepTools")
    codeocean_fake.add_data_asset(id=ASSET, name="Alignment", mount="Alignment")
    return codeocean_fake


def _version(fake: FakeCodeOcean) -> str:
    return _only_request(fake).headers["min-server-version"]


async def test_get(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    asset = await client.data_assets.get(ASSET)
    assert _sent(fake) == ("GET", f"/api/v1/data_assets/{ASSET}", {}, None)
    assert _version(fake) == "2.18.0"
    assert (asset.id, asset.name, asset.mount, asset.ready) == (
        ASSET,
        "Alignment",
        "Alignment",
        True,
    )
    assert asset.type is co.DataAssetType.DATASET


async def test_get_unknown_is_404(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    with pytest.raises(co.NotFoundError):
        await client.data_assets.get("no-such-asset")


def _sources(fake: FakeCodeOcean) -> list[tuple[co.DataAssetParams, dict[str, Any], str, str]]:
    run = fake.add_computation(capsule_id=CAPSULE, outcome="succeeded")["id"]
    station = fake.add_computation(capsule_id=CAPSULE, cloud_workstation=True)["id"]
    base: dict[str, Any] = {"name": "New", "mount": "new", "tags": ["t"]}

    def params(**kw: Any) -> co.DataAssetParams:
        return co.DataAssetParams(name="New", mount="new", tags=["t"], **kw)

    s3 = co.AWSS3Source(bucket="b", prefix="p/", keep_on_external_storage=True, public=False)
    return [
        (
            params(source=co.Source(aws=s3)),
            {
                **base,
                "source": {
                    "aws": {
                        "bucket": "b",
                        "prefix": "p/",
                        "keep_on_external_storage": True,
                        "public": False,
                    }
                },
            },
            "2.18.0",
            "dataset",
        ),
        (
            params(source=co.Source(aws=co.AWSS3Source(bucket="b", endpoint_name="minio"))),
            {**base, "source": {"aws": {"bucket": "b", "endpoint_name": "minio"}}},
            "4.1.0",
            "dataset",
        ),
        (
            params(source=co.Source(aws=co.AWSS3Source(bucket="", use_input_bucket=True))),
            {**base, "source": {"aws": {"bucket": "", "use_input_bucket": True}}},
            "4.1.0",
            "dataset",
        ),
        (
            params(source=co.Source(gcp=co.GCPCloudStorageSource(bucket="g", client_id="i"))),
            {**base, "source": {"gcp": {"bucket": "g", "client_id": "i"}}},
            "2.18.0",
            "dataset",
        ),
        (
            params(
                source=co.Source(computation=co.ComputationSource(id=run, path="out")),
                target=co.Target(aws=co.AWSS3Target(bucket="t", prefix="x")),
                results_info=co.ResultsInfo(capsule_id=CAPSULE, version=1),
                custom_metadata={"Age": 3},
                description="d",
            ),
            {
                **base,
                "description": "d",
                "source": {"computation": {"id": run, "path": "out"}},
                "target": {"aws": {"bucket": "t", "prefix": "x"}},
                "custom_metadata": {"Age": 3},
                "results_info": {"capsule_id": CAPSULE, "version": 1},
            },
            "2.18.0",
            "result",
        ),
        (
            params(
                source=co.Source(
                    cloud_workstation=co.CloudWorkstationSource(
                        id=station, path="scratch", run_script="run.sh"
                    )
                )
            ),
            {
                **base,
                "source": {
                    "cloud_workstation": {"id": station, "path": "scratch", "run_script": "run.sh"}
                },
            },
            "4.2.0",
            "result",
        ),
        (
            params(data_asset_ids=[ASSET]),
            {**base, "data_asset_ids": [ASSET]},
            "3.1.0",
            "combined",
        ),
    ]


@pytest.mark.parametrize("index", range(7))
async def test_create_every_source_kind(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, index: int
) -> None:
    params, body, version, kind = _sources(fake)[index]
    asset = await client.data_assets.create(params)
    assert _sent(fake) == ("POST", "/api/v1/data_assets", {}, body)
    assert _version(fake) == version
    assert asset.state is co.DataAssetState.DRAFT
    assert asset.type == kind
    assert fake.created_data_assets == [asset.id]
    if kind == "combined":
        assert asset.contained_data_assets is not None
        assert [a.id for a in asset.contained_data_assets] == [ASSET]
    if index == 4:  # a capture into a target bucket
        assert asset.provenance is not None
        assert asset.provenance.computation == body["source"]["computation"]["id"]
        assert asset.provenance.capsule == CAPSULE
        assert asset.source_bucket == co.SourceBucket(
            origin=co.DataAssetOrigin.AWS, bucket="t", prefix="x", external=True
        )
        assert asset.custom_metadata == {"Age": 3}


def _refused() -> list[Any]:
    comp = co.Source(computation=co.ComputationSource(id="c"))
    target = co.Target(aws=co.AWSS3Target(bucket="t"))
    return [
        lambda: co.DataAssetParams(name="n", mount="m", tags=[]),
        lambda: co.DataAssetParams(name="n", mount="m", tags=[], source=comp, data_asset_ids=["a"]),
        lambda: co.DataAssetParams(name="n", mount="m", tags=[], data_asset_ids=[]),
        lambda: co.DataAssetParams(
            name="n", mount="m", tags=[], data_asset_ids=["a"], target=target
        ),
        lambda: co.DataAssetParams(
            name="n",
            mount="m",
            tags=[],
            source=co.Source(aws=co.AWSS3Source(bucket="b")),
            target=target,
        ),
        lambda: co.Source(),
        lambda: co.Source(aws=co.AWSS3Source(bucket="b"), gcp=co.GCPCloudStorageSource(bucket="g")),
        lambda: co.CloudWorkstationSource(id="w", path=""),
        lambda: co.DataAssetParams(name="", mount="m", tags=[], data_asset_ids=["a"]),
    ]


@pytest.mark.parametrize("index", range(9))
def test_bad_combinations_are_refused_when_built(index: int) -> None:
    with pytest.raises(ValueError):
        _refused()[index]()


async def test_create_checks_types_before_sending(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean
) -> None:
    with pytest.raises(TypeError):
        await client.data_assets.create({"name": "n"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        co.DataAssetParams(name="n", mount="m", tags="one", data_asset_ids=["a"])
    assert fake.requests == []


async def test_gcp_secret_is_not_in_the_repr() -> None:
    assert "s3cr3t" not in repr(co.GCPCloudStorageSource(bucket="b", client_secret="s3cr3t"))


async def test_create_from_a_run_without_results_is_400(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean
) -> None:
    running = fake.add_computation(capsule_id=CAPSULE, durations=(60, 60, 60))["id"]
    for comp in (running, "no-such-run"):
        params = co.DataAssetParams(
            name="n",
            mount="m",
            tags=[],
            source=co.Source(computation=co.ComputationSource(id=comp)),
        )
        with pytest.raises(co.BadRequestError):
            await client.data_assets.create(params)
    with pytest.raises(co.BadRequestError):
        await client.data_assets.create(
            co.DataAssetParams(name="n", mount="m", tags=[], data_asset_ids=["missing"])
        )
    assert fake.created_data_assets == []


async def test_update_metadata_sends_only_what_is_set(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean
) -> None:
    asset = await client.data_assets.update_metadata(ASSET, name="Renamed", tags=["a", "b"])
    assert _sent(fake) == (
        "PUT",
        f"/api/v1/data_assets/{ASSET}",
        {},
        {"name": "Renamed", "tags": ["a", "b"]},
    )
    assert _version(fake) == "2.18.0"
    assert (asset.name, asset.tags, asset.mount) == ("Renamed", ("a", "b"), "Alignment")
    fake.reset_requests()
    params = co.DataAssetUpdateParams(description="d", custom_metadata={"Species": "mouse"})
    asset = await client.data_assets.update_metadata(ASSET, params)
    assert _sent(fake)[3] == {"description": "d", "custom_metadata": {"Species": "mouse"}}
    assert asset.custom_metadata == {"Species": "mouse"}
    fake.reset_requests()
    with pytest.raises(ValueError, match="not both"):
        await client.data_assets.update_metadata(ASSET, params, name="x")
    with pytest.raises(ValueError, match="nothing to update"):
        await client.data_assets.update_metadata(ASSET)
    assert fake.requests == []


async def test_delete(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    await client.data_assets.delete(ASSET)
    assert _sent(fake) == ("DELETE", f"/api/v1/data_assets/{ASSET}", {}, None)
    assert _version(fake) == "2.18.0"
    assert ASSET not in fake.data_assets
    with pytest.raises(co.NotFoundError):
        await client.data_assets.delete(ASSET)


async def test_archive_and_unarchive(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    await client.data_assets.archive(ASSET)
    assert _sent(fake) == (
        "PATCH",
        f"/api/v1/data_assets/{ASSET}/archive",
        {"archive": "true"},
        None,
    )
    assert _version(fake) == "2.18.0"
    assert fake.archived_data_assets == {ASSET}
    fake.reset_requests()
    await client.data_assets.unarchive(ASSET)
    assert _sent(fake)[2] == {"archive": "false"}
    assert fake.archived_data_assets == set()


@pytest.mark.parametrize(("value", "archived"), [("True", True), ("False", False), ("yes", None)])
async def test_the_fake_reads_archive_as_the_official_sdk_sends_it(
    fake: FakeCodeOcean, value: str, archived: bool | None
) -> None:
    import httpx

    async with httpx.AsyncClient(transport=fake.transport(), base_url="http://x") as http:
        answer = await http.patch(
            f"/api/v1/data_assets/{ASSET}/archive",
            params={"archive": value},
            auth=(fake.token, ""),
        )
    assert answer.status_code == (400 if archived is None else 204)
    assert (ASSET in fake.archived_data_assets) is bool(archived)


async def test_permissions(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    permissions = await client.data_assets.get_permissions(ASSET)
    assert _sent(fake) == ("GET", f"/api/v1/data_assets/{ASSET}/permissions", {}, None)
    assert _version(fake) == "4.3.0"
    assert permissions.everyone is co.models.shared.EveryoneRole.NONE
    assert permissions.users is not None
    assert permissions.users[0].role == "owner"
    fake.reset_requests()
    new = co.models.shared.Permissions(
        users=[co.models.shared.UserPermissions(email="a@x.org", role="editor")],
        everyone="viewer",
    )
    await client.data_assets.update_permissions(ASSET, new)
    assert _sent(fake) == (
        "POST",
        f"/api/v1/data_assets/{ASSET}/permissions",
        {},
        {"users": [{"email": "a@x.org", "role": "editor"}], "everyone": "viewer"},
    )
    assert _version(fake) == "2.18.0"
    fake.reset_requests()
    assert await client.data_assets.get_permissions(ASSET) == new


async def test_search_one_page(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    fake.add_data_asset(name="Other", mount="o")
    page = await client.data_assets.search(query="name:Alignment", limit=10, type="dataset")
    assert _sent(fake) == (
        "POST",
        "/api/v1/data_assets/search",
        {},
        {"query": "name:Alignment", "limit": 10, "type": "dataset"},
    )
    assert _version(fake) == "3.1.0"
    assert isinstance(page, co.DataAssetSearchResults)
    assert [a.id for a in page.results] == [ASSET]
    assert (page.has_more, page.next_token) == (False, None)


@pytest.mark.parametrize("limit", [0, 1001])
async def test_search_limit_is_checked(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, limit: int
) -> None:
    with pytest.raises(ValueError, match="limit"):
        await client.data_assets.search(limit=limit)
    with pytest.raises(ValueError, match="limit"):
        client.data_assets.iter_search(co.DataAssetSearchParams(limit=limit))
    assert fake.requests == []


async def test_iter_search_follows_next_token(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean
) -> None:
    fake.reset_requests()
    ids = [fake.add_data_asset(name=f"mouse {i}", mount=f"m{i}")["id"] for i in range(5)]
    found = [a.id async for a in client.data_assets.iter_search(query="mouse", limit=2)]
    assert sorted(found) == sorted(ids)
    bodies = [r.body for r in fake.requests]
    assert len(bodies) == 3
    assert "next_token" not in bodies[0]
    assert bodies[1]["next_token"]
    assert bodies[2]["next_token"] != bodies[1]["next_token"]
    assert all(b["query"] == "mouse" and b["limit"] == 2 for b in bodies)


async def test_search_with_a_token_it_never_gave_is_400(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean
) -> None:
    with pytest.raises(co.BadRequestError):
        await client.data_assets.search(next_token="not-a-token")


async def test_search_archived(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    await client.data_assets.archive(ASSET)
    assert (await client.data_assets.search()).results == ()
    archived = await client.data_assets.search(archived=True)
    assert [a.id for a in archived.results] == [ASSET]


async def test_transfer(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    target = co.Target(aws=co.AWSS3Target(bucket="archive", prefix="a/", endpoint_name="s3"))
    params = co.TransferDataParams(target=target, force=True)
    await client.data_assets.transfer(ASSET, params)
    body = {
        "target": {"aws": {"bucket": "archive", "endpoint_name": "s3", "prefix": "a/"}},
        "force": True,
    }
    assert _sent(fake) == ("POST", f"/api/v1/data_assets/{ASSET}/transfer", {}, body)
    assert _version(fake) == "3.1.0"
    assert fake.data_asset_transfers == [{"data_asset_id": ASSET, **body}]
    asset = await client.data_assets.get(ASSET)
    assert asset.last_transferred is not None
    assert asset.source_bucket is not None
    assert asset.source_bucket.bucket == "archive"


async def test_custom_metadata(client: co.AsyncCodeOcean, fake: FakeCodeOcean) -> None:
    fake.set_custom_metadata(
        {
            "fields": [
                {"name": "Age", "type": "number", "range": {"min": 0, "max": 9}, "units": "y"},
                {"name": "Kind", "type": "string", "allowed_values": ["a"], "multiple": True},
                {"name": "When", "type": "date", "required": True, "category": "c"},
                {"name": "New", "type": "colour"},
            ],
            "categories": ["c"],
        }
    )
    schema = await client.custom_metadata.get()
    assert _sent(fake) == ("GET", "/api/v1/custom_metadata", {}, None)
    assert _version(fake) == "3.9.0"
    assert schema.categories == ("c",)
    assert schema.fields is not None
    age, kind, when, new = schema.fields
    assert age.type is co.CustomMetadataFieldType.NUMBER
    assert age.range == co.CustomMetadataFieldRange(min=0, max=9)
    assert (kind.allowed_values, kind.multiple) == (("a",), True)
    assert (when.type, when.required, when.category) == ("date", True, "c")
    assert not new.type.known
    assert new.type == "colour"


async def test_documented_data_asset_payload_decodes(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean
) -> None:
    """Every field api.md §2 lists for DataAsset, as the server may send it."""
    stored = fake.add_data_asset(id="full", name="Full", mount="full")
    stored.update(
        {
            "created": 1.5e9,
            "type": "result",
            "files": 3,
            "size": 1024,
            "description": "all of it",
            "provenance": {
                "commit": "abc",
                "run_script": "code/run",
                "docker_image": "img",
                "capsule": CAPSULE,
                "data_assets": [ASSET],
                "computation": "k",
            },
            "source_bucket": {"origin": "aws", "bucket": "b", "prefix": "p", "external": True},
            "custom_metadata": {"Age": 3, "Species": "mouse"},
            "app_parameters": [{"name": "n", "value": "v"}],
            "nextflow_profile": "local",
            "contained_data_assets": [{"id": ASSET, "mount": "m", "size": 9}],
            "last_transferred": 1_700_000_100,
            "transfer_error": "denied",
            "unknown_key": {"ignored": True},
        }
    )
    asset = await client.data_assets.get("full")
    assert asset.created == 1_500_000_000
    assert asset.provenance == co.Provenance(
        commit="abc",
        run_script="code/run",
        docker_image="img",
        capsule=CAPSULE,
        data_assets=(ASSET,),
        computation="k",
    )
    assert asset.source_bucket is not None
    assert asset.source_bucket.origin is co.DataAssetOrigin.AWS
    assert asset.app_parameters == (co.AppParameter(name="n", value="v"),)
    assert asset.contained_data_assets == (co.ContainedDataAsset(id=ASSET, mount="m", size=9),)
    assert (asset.files, asset.size, asset.nextflow_profile) == (3, 1024, "local")
    assert (asset.last_transferred, asset.transfer_error) == (1_700_000_100, "denied")
