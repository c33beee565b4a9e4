"""Capsule and pipeline operations against the fake: the exact request each sends and the
decoding of its documented answer, on both routes and for both kinds of parent."""

from __future__ import annotations

from typing import Any

import pytest

import codeocean_async as co
from codeocean_async._operations import operation
from codeocean_async.testing import FakeCodeOcean, RecordedRequest

from .parents import add_parent, routes_of

pytestmark = pytest.mark.anyio

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"
OTHER_ASSET = "0b3b5b0e-2d4c-4f55-9c1e-6f1c0e0c0c01"
KINDS = ("capsules", "pipelines")

#: A documented App Panel payload (api.md §2), processes with lists as the docs say.
APP_PANEL: dict[str, Any] = {
    "general": {"title": "Coverage", "instructions": "Pick a BAM", "help_text": "?"},
    "data_assets": [
        {
            "id": ASSET,
            "mount": "Alignment",
            "name": "Alignment",
            "kind": "internal",
            "accessible": True,
        },
    ],
    "categories": [{"id": "c1", "name": "Main", "description": "main settings"}],
    "parameters": [
        {
            "name": "Bin size",
            "type": "text",
            "category": "c1",
            "param_name": "bin_size",
            "value_type": "integer",
            "default_value": "50",
            "required": True,
            "minimum": 1,
            "maximum": 1000,
        },
        {"name": "Mode", "type": "list", "value_options": ["fast", "exact"], "hidden": False},
    ],
    "results": [{"file_name": "coverage.bw"}],
    "processes": [
        {
            "name": "align",
            "categories": [{"id": "c2", "name": "Align"}],
            "parameters": [{"name": "Threads", "type": "text", "param_name": "threads"}],
        },
    ],
}


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(client_by_either_route: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    return client_by_either_route


@pytest.fixture
def fake(codeocean_fake: FakeCodeOcean) -> FakeCodeOcean:
    codeocean_fake.add_data_asset(id=ASSET, name="Alignment", mount="Alignment")
    codeocean_fake.add_data_asset(id=OTHER_ASSET, name="Genome", mount="Genome")
    return codeocean_fake


def _only(fake: FakeCodeOcean) -> RecordedRequest:
    (request,) = fake.requests
    assert request.auth_ok
    return request


def _sent(fake: FakeCodeOcean, name: str) -> tuple[str, str, dict[str, str], Any]:
    """The only request: method, path, query, body; its Min-Server-Version is ``name``'s."""
    request = _only(fake)
    assert request.headers["min-server-version"] == operation(name).min_version
    return request.method, request.path, request.query, request.body


async def test_delete(client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str) -> None:
    stored = fake.add_capsule() if kind == "capsules" else fake.add_pipeline()
    stored["archived"] = True
    parent_id = stored["id"]
    await routes_of(client, kind).delete(parent_id)
    assert _sent(fake, f"{kind}.delete") == ("DELETE", f"/api/v1/{kind}/{parent_id}", {}, None)
    with pytest.raises(co.NotFoundError):
        await routes_of(client, kind).get(parent_id)


async def test_delete_refused_unless_archived_and_unreleased(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str
) -> None:
    routes = routes_of(client, kind)
    with pytest.raises(co.PermissionDeniedError, match="archived"):
        await routes.delete(add_parent(fake, kind))
    released = add_parent(fake, kind, versions=(1,))
    await routes.archive(released)
    with pytest.raises(co.PermissionDeniedError, match="released"):
        await routes.delete(released)
    with pytest.raises(co.NotFoundError):
        await routes.delete("no-such-id")


async def test_archive_and_unarchive(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str
) -> None:
    stored = fake.add_capsule() if kind == "capsules" else fake.add_pipeline()
    parent_id = stored["id"]
    await routes_of(client, kind).archive(parent_id)
    assert _sent(fake, f"{kind}.archive") == (
        "PATCH",
        f"/api/v1/{kind}/{parent_id}/archive",
        {"archive": "true"},
        None,
    )
    assert stored["archived"] is True  # what get answers
    fake.reset_requests()
    await routes_of(client, kind).unarchive(parent_id)
    assert _sent(fake, f"{kind}.archive")[2] == {"archive": "false"}
    assert "archived" not in stored


async def test_archive_accepts_the_official_sdks_spelling(fake: FakeCodeOcean) -> None:
    import httpx

    stored = fake.add_capsule()
    async with httpx.AsyncClient(
        transport=fake.transport(),
        base_url="http://codeocean.test/api/v1/",
        auth=(fake.token, ""),
    ) as raw:
        answer = await raw.patch(f"capsules/{stored['id']}/archive", params={"archive": "True"})
        assert answer.status_code == 204
        assert stored["archived"] is True
        answer = await raw.patch(f"capsules/{stored['id']}/archive", params={"archive": "yes"})
        assert answer.status_code == 400


async def test_get_app_panel(client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str) -> None:
    parent_id = add_parent(fake, kind, versions=(0, 1))
    fake.set_app_panel(parent_id, APP_PANEL)
    panel = await routes_of(client, kind).get_app_panel(parent_id)
    assert _sent(fake, f"{kind}.get_app_panel") == (
        "GET",
        f"/api/v1/{kind}/{parent_id}/app_panel",
        {},
        None,
    )
    assert panel.general == co.AppPanelGeneral(
        title="Coverage", instructions="Pick a BAM", help_text="?"
    )
    assert panel.data_assets is not None
    assert panel.data_assets[0].kind is co.AppPanelDataAssetKind.INTERNAL
    assert panel.parameters is not None
    first, second = panel.parameters
    assert (first.param_name, first.type, first.required, first.minimum) == (
        "bin_size",
        co.AppPanelParameterType.TEXT,
        True,
        1.0,
    )
    assert second.value_options == ("fast", "exact")
    assert panel.results == (co.AppPanelResult(file_name="coverage.bw"),)
    assert panel.processes is not None
    (process,) = panel.processes
    assert process.categories == (co.AppPanelCategories(id="c2", name="Align"),)
    assert process.parameters is not None
    assert process.parameters[0].param_name == "threads"


async def test_get_app_panel_of_a_version_sends_zero_too(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(fake, kind, name="Mine", versions=(0, 1))
    fake.set_app_panel(parent_id, {"general": {"title": "v1"}}, version=1)
    routes = routes_of(client, kind)
    panel = await routes.get_app_panel(parent_id, version=0)
    assert _sent(fake, f"{kind}.get_app_panel")[2] == {"version": "0"}
    assert panel.general is not None
    assert panel.general.title == "Mine"
    assert (await routes.get_app_panel(parent_id, version=1)).general == co.AppPanelGeneral(
        title="v1"
    )
    with pytest.raises(co.BadRequestError, match="not a released version"):
        await routes.get_app_panel(parent_id, version=7)
    with pytest.raises(TypeError):
        await routes.get_app_panel(parent_id, version=True)


async def test_permissions(client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str) -> None:
    parent_id = add_parent(fake, kind)
    routes = routes_of(client, kind)
    wanted = co.Permissions(
        users=[co.UserPermissions(email="ada@example.com", role="editor")],
        groups=[co.GroupPermissions(group="lab", role="discoverable")],
        share_assets=True,
    )
    await routes.update_permissions(parent_id, wanted)
    assert _sent(fake, f"{kind}.update_permissions") == (
        "POST",
        f"/api/v1/{kind}/{parent_id}/permissions",
        {},
        {
            "users": [{"email": "ada@example.com", "role": "editor"}],
            "groups": [{"group": "lab", "role": "discoverable"}],
            "share_assets": True,
        },
    )
    fake.reset_requests()
    got = await routes.get_permissions(parent_id)
    assert _sent(fake, f"{kind}.get_permissions") == (
        "GET",
        f"/api/v1/{kind}/{parent_id}/permissions",
        {},
        None,
    )
    assert got.users == wanted.users
    assert got.groups == wanted.groups
    assert got.everyone is co.EveryoneRole.NONE  # untouched by the update
    assert got.share_assets is True
    with pytest.raises(TypeError):
        await routes.update_permissions(parent_id, {"everyone": "viewer"})  # type: ignore[arg-type]


async def test_attach_data_assets(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(fake, kind)
    routes = routes_of(client, kind)
    results = await routes.attach_data_assets(
        parent_id, [f"{ASSET}:input", co.DataAssetAttachParams(OTHER_ASSET)]
    )
    assert _sent(fake, f"{kind}.attach_data_assets") == (
        "POST",
        f"/api/v1/{kind}/{parent_id}/data_assets",
        {},
        [{"id": ASSET, "mount": "input"}, {"id": OTHER_ASSET}],
    )
    assert [(r.id, r.mount, r.ready) for r in results] == [
        (ASSET, "input", True),
        (OTHER_ASSET, "Genome", True),
    ]
    assert fake.attached_data_assets(parent_id) == {ASSET: "input", OTHER_ASSET: "Genome"}
    panel = await routes.get_app_panel(parent_id)
    assert panel.data_assets is not None
    assert [(a.id, a.mount) for a in panel.data_assets] == [
        (ASSET, "input"),
        (OTHER_ASSET, "Genome"),
    ]
    with pytest.raises(co.NotFoundError):
        await routes.attach_data_assets(parent_id, ["no-such-asset"])


async def test_detach_data_assets(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(fake, kind)
    routes = routes_of(client, kind)
    await routes.attach_data_assets(parent_id, [ASSET, OTHER_ASSET])
    fake.reset_requests()
    await routes.detach_data_assets(parent_id, [ASSET])
    assert _sent(fake, f"{kind}.detach_data_assets") == (
        "DELETE",
        f"/api/v1/{kind}/{parent_id}/data_assets/",
        {},
        [ASSET],
    )
    assert fake.attached_data_assets(parent_id) == {OTHER_ASSET: "Genome"}
    with pytest.raises(co.BadRequestError, match="not attached"):
        await routes.detach_data_assets(parent_id, [ASSET])
    with pytest.raises(co.NotFoundError):
        await routes.detach_data_assets(parent_id, ["no-such-asset"])


async def test_bad_data_assets_are_refused_before_sending(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str
) -> None:
    parent_id = add_parent(fake, kind)
    routes = routes_of(client, kind)
    with pytest.raises(ValueError, match="empty"):
        await routes.detach_data_assets(parent_id, [])
    with pytest.raises(ValueError):
        await routes.detach_data_assets(parent_id, ["a/b"])
    with pytest.raises(TypeError):
        await routes.detach_data_assets(parent_id, ASSET)
    with pytest.raises(ValueError, match="empty"):
        await routes.attach_data_assets(parent_id, [])
    with pytest.raises(ValueError):
        await routes.attach_data_assets(parent_id, ["../x"])
    with pytest.raises(ValueError, match="empty mount"):
        await routes.attach_data_assets(parent_id, [f"{ASSET}:"])
    with pytest.raises(TypeError):
        await routes.attach_data_assets(parent_id, [42])  # type: ignore[list-item]
    assert fake.requests == []


async def test_computations_attach_and_detach(
    client: co.AsyncCodeOcean, fake: FakeCodeOcean
) -> None:
    session = fake.add_computation(cloud_workstation=True)["id"]
    results = await client.computations.attach_data_assets(session, [f"{ASSET}:bam"])
    assert _sent(fake, "computations.attach_data_assets") == (
        "POST",
        f"/api/v1/computations/{session}/data_assets",
        {},
        [{"id": ASSET, "mount": "bam"}],
    )
    assert [(r.id, r.mount) for r in results] == [(ASSET, "bam")]
    computation = await client.computations.get(session)
    assert computation.data_assets is not None
    assert [(a.id, a.mount) for a in computation.data_assets] == [(ASSET, "bam")]
    fake.reset_requests()
    await client.computations.detach_data_assets(session, [ASSET])
    assert _sent(fake, "computations.detach_data_assets") == (
        "DELETE",
        f"/api/v1/computations/{session}/data_assets/",
        {},
        [ASSET],
    )
    assert (await client.computations.get(session)).data_assets == ()
    not_a_session = fake.add_computation()["id"]
    with pytest.raises(co.BadRequestError, match="cloud workstation"):
        await client.computations.attach_data_assets(not_a_session, [ASSET])
    with pytest.raises(ValueError, match="empty"):
        await client.computations.detach_data_assets(session, [])


async def test_sync(client: co.AsyncCodeOcean, fake: FakeCodeOcean, kind: str) -> None:
    parent_id = add_parent(fake, kind)
    routes = routes_of(client, kind)
    assert await routes.sync(parent_id) == co.GitSyncResults(pushed=0, pulled=0, new_branch=False)
    assert _sent(fake, f"{kind}.sync") == ("POST", f"/api/v1/{kind}/{parent_id}/sync", {}, None)
    fake.plan_sync(pushed=2, new_branch=True)
    assert await routes.sync(parent_id) == co.GitSyncResults(pushed=2, pulled=0, new_branch=True)
    with pytest.raises(co.NotFoundError):
        await routes.sync("no-such-id")


async def test_a_deployment_too_old_for_sync(fake: FakeCodeOcean) -> None:
    fake.server_version = "4.5.0"
    capsule = fake.add_capsule()["id"]
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=fake.transport(),
        allow_insecure_http=True,
    ) as client:
        with pytest.raises(co.ServerVersionError) as caught:
            await client.capsules.sync(capsule)
        assert caught.value.min_version == "4.6.0"
        await client.capsules.get_app_panel(capsule)  # 3.9's operations still work


async def test_the_fake_refuses_malformed_requests(fake: FakeCodeOcean) -> None:
    import httpx

    capsule = fake.add_capsule(versions=(1,))["id"]
    session = fake.add_computation(cloud_workstation=True)["id"]
    refused: list[tuple[str, str, Any]] = [
        ("POST", f"capsules/{capsule}/permissions", {"users": {"email": "x"}}),
        ("POST", f"capsules/{capsule}/permissions", {"users": [{"email": "a@b", "role": "boss"}]}),
        ("POST", f"capsules/{capsule}/permissions", {"groups": [{"role": "viewer"}]}),
        ("POST", f"capsules/{capsule}/permissions", {"everyone": "owner"}),
        ("POST", f"capsules/{capsule}/permissions", {"share_assets": "yes"}),
        ("POST", f"capsules/{capsule}/permissions", [1]),
        ("POST", f"capsules/{capsule}/data_assets", {"id": ASSET}),
        ("POST", f"capsules/{capsule}/data_assets", []),
        ("POST", f"capsules/{capsule}/data_assets", [{"mount": "x"}]),
        ("POST", f"capsules/{capsule}/data_assets", [{"id": ASSET, "mount": ""}]),
        ("DELETE", f"capsules/{capsule}/data_assets/", [1]),
        ("DELETE", f"computations/{session}/data_assets/", "not json"),
        ("POST", "capsules/search", {"offset": -1}),
        ("POST", "capsules/search", {"query": 3}),
        ("POST", "capsules/search", {"favorite": "no"}),
        ("POST", "capsules/search", {"filters": {}}),
        ("POST", "capsules/search", {"next_token": 5}),
        ("POST", "capsules/search", {"ownership": "everyone"}),
    ]
    async with httpx.AsyncClient(
        transport=fake.transport(),
        base_url="http://codeocean.test/api/v1/",
        auth=(fake.token, ""),
    ) as raw:
        for method, path, body in refused:
            content = body.encode() if isinstance(body, str) else None
            answer = await raw.request(
                method, path, content=content, json=None if content else body
            )
            assert answer.status_code == 400, (method, path, body)
        answer = await raw.get(f"capsules/{capsule}/app_panel", params={"version": "x"})
        assert answer.status_code == 400
        await raw.post(f"capsules/{capsule}/data_assets", json=[{"id": ASSET, "mount": "m"}])
        answer = await raw.post(
            f"capsules/{capsule}/data_assets", json=[{"id": OTHER_ASSET, "mount": "m"}]
        )
        assert answer.status_code == 400  # the mount is taken
        job = (await raw.post(f"capsules/{capsule}/release")).json()["job_id"]
        other = fake.add_capsule(versions=(1,))["id"]
        assert (await raw.get(f"capsules/{other}/release/{job}")).status_code == 404
        docs_path = await raw.request("DELETE", f"capsules/{capsule}/data_assets", json=[ASSET])
        assert docs_path.status_code == 204  # the docs' path, without the trailing slash
