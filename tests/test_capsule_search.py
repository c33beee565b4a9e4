"""Capsule and pipeline searches against the fake: one page's exact request and answer, every
page one at a time, the searches by data asset, and the checks made before sending."""

from __future__ import annotations

from typing import Any

import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean

from .parents import add_parent, routes_of

pytestmark = pytest.mark.anyio

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


@pytest.fixture(params=("capsules", "pipelines"))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(client_by_either_route: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    return client_by_either_route


def _bodies(fake: FakeCodeOcean) -> list[Any]:
    return [r.body for r in fake.requests]


async def test_search_one_page(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    for name in ("beta", "alpha", "gamma"):
        add_parent(codeocean_fake, kind, name=name, tags=("ChIP",))
    add_parent(codeocean_fake, kind, name="other")
    page = await routes_of(client, kind).search(
        query="tag:ChIP", limit=2, sort_field="name", sort_order="asc", archived=False
    )
    (request,) = codeocean_fake.requests
    assert (request.method, request.path, request.query) == ("POST", f"/api/v1/{kind}/search", {})
    assert request.body == {
        "query": "tag:ChIP",
        "limit": 2,
        "sort_field": "name",
        "sort_order": "asc",
        "archived": False,
    }
    assert request.headers["min-server-version"] == ("3.1.0" if kind == "capsules" else "4.1.0")
    assert [c.name for c in page.results] == ["alpha", "beta"]
    assert page.has_more
    assert page.next_token
    params = co.CapsuleSearchParams(query="tag:ChIP", next_token=page.next_token)
    last = await routes_of(client, kind).search(params)
    assert [c.name for c in last.results] == ["gamma"]
    assert not last.has_more
    assert last.next_token is None


async def test_iter_search_fetches_a_page_only_when_the_last_is_used_up(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    names = [f"run-{i}" for i in range(5)]
    for name in names:
        add_parent(codeocean_fake, kind, name=name)
    found = routes_of(client, kind).iter_search(limit=2)
    seen = [(await found.__anext__()).name, (await found.__anext__()).name]
    assert len(codeocean_fake.requests) == 1
    seen.append((await found.__anext__()).name)
    assert len(codeocean_fake.requests) == 2
    seen += [c.name async for c in found]
    assert seen == names
    bodies = _bodies(codeocean_fake)
    assert bodies[0] == {"limit": 2}  # no next_token on the first page
    assert [set(b) for b in bodies[1:]] == [{"limit", "next_token"}] * 2
    assert len({b["next_token"] for b in bodies[1:]}) == 2


async def test_search_filters(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    released = add_parent(codeocean_fake, kind, name="released", versions=(1,))
    add_parent(codeocean_fake, kind, name="draft")
    archived = codeocean_fake.add_capsule if kind == "capsules" else codeocean_fake.add_pipeline
    archived(name="old")["archived"] = True
    add_parent(codeocean_fake, kind, name="theirs", owner="someone-else")
    routes = routes_of(client, kind)
    by_status = await routes.search(status=co.CapsuleStatus.RELEASE)
    assert [c.id for c in by_status.results] == [released]
    assert [c.name for c in (await routes.search(archived=True)).results] == ["old"]
    mine = await routes.search(ownership=co.Ownership.CREATED)
    assert sorted(c.name for c in mine.results) == ["draft", "released"]
    shared = await routes.search(ownership="shared")
    assert [c.name for c in shared.results] == ["theirs"]
    assert [c.name for c in (await routes.search(query=f"id:{released}")).results] == ["released"]


async def test_search_by_data_asset(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    codeocean_fake.add_data_asset(id=ASSET)
    routes = routes_of(client, kind)
    users = [add_parent(codeocean_fake, kind, name=f"user-{i}") for i in range(3)]
    add_parent(codeocean_fake, kind, name="unrelated")
    for parent_id in users:
        await routes.attach_data_assets(parent_id, [ASSET])
    codeocean_fake.reset_requests()
    found = await routes.search_by_data_asset(ASSET)
    assert sorted(c.id for c in found) == sorted(users)
    assert _bodies(codeocean_fake) == [{"query": ASSET}]
    with pytest.raises(ValueError):
        await routes.search_by_data_asset("a b")


async def test_search_arguments_are_checked_before_sending(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kind: str
) -> None:
    routes = routes_of(client, kind)
    for limit in (0, 1001):
        with pytest.raises(ValueError, match="limit"):
            await routes.search(limit=limit)
        with pytest.raises(ValueError, match="limit"):
            routes.iter_search(limit=limit)
    with pytest.raises(TypeError):
        await routes.search(limit="10")
    with pytest.raises(TypeError):
        await routes.search(colour="blue")
    with pytest.raises(ValueError, match="not both"):
        await routes.search(co.CapsuleSearchParams(query="x"), limit=5)
    with pytest.raises(TypeError):
        await routes.search({"query": "x"})  # type: ignore[arg-type]
    assert codeocean_fake.requests == []
    assert co.CapsuleSearchParams(limit=1000).limit == 1000


async def test_decoding_the_documented_search_answer() -> None:
    page = co.from_json(
        co.CapsuleSearchResults,
        '{"has_more": true, "next_token": "abc", "results": [{"id": "c1", "created": 1673385764,'
        ' "name": "deepTools", "status": "release", "owner": "u1", "slug": "7607289",'
        ' "tags": ["ChIP"], "versions": [{"major_version": 1, "minor_version": 0,'
        ' "release_time": 1673395764}]}]}',
    )
    assert page.has_more
    assert page.next_token == "abc"
    (capsule,) = page.results
    assert capsule.status is co.CapsuleStatus.RELEASE
    assert co.from_json(co.CapsuleSearchResults, "{}") == co.CapsuleSearchResults()


async def test_the_fake_refuses_bad_searches(codeocean_fake: FakeCodeOcean) -> None:
    import httpx

    async with httpx.AsyncClient(
        transport=codeocean_fake.transport(),
        base_url="http://codeocean.test/api/v1/",
        auth=(codeocean_fake.token, ""),
    ) as raw:
        for body in ({"limit": 1001}, {"next_token": "not-a-token"}, {"sort_field": "size"}):
            answer = await raw.post("capsules/search", json=body)
            assert answer.status_code == 400, body
