"""The fake's data asset routes refuse what the real API refuses (requests the SDK's own models
would never send, so they are sent raw here), and its seeding methods check their input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from codeocean_async.testing import FakeCodeOcean, ManualClock

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def seeded(fake: FakeCodeOcean) -> None:
    fake.add_capsule(id="cap")
    fake.add_data_asset(id="asset")
    fake.add_computation(capsule_id="cap", id="run")


@pytest.fixture
def send(http: httpx.AsyncClient) -> Any:
    async def send(method: str, path: str, body: Any = None) -> httpx.Response:
        return await http.request(method, f"/{path}", json=body)

    return send


_NAMED = {"name": "n", "mount": "m"}
_RUN = {"computation": {"id": "run"}}


@pytest.mark.parametrize(
    "body",
    [
        {"mount": "m", "source": _RUN},
        {"name": "n", "source": _RUN},
        {**_NAMED},
        {**_NAMED, "source": _RUN, "data_asset_ids": ["asset"]},
        {**_NAMED, "data_asset_ids": []},
        {**_NAMED, "data_asset_ids": "asset"},
        {**_NAMED, "source": {}},
        {**_NAMED, "source": {"aws": {"bucket": "b"}, "gcp": {"bucket": "g"}}},
        {**_NAMED, "source": {"aws": {}}},
        {**_NAMED, "source": {"gcp": {"prefix": "p"}}},
        {**_NAMED, "source": {"aws": {"bucket": "b"}}, "target": {"aws": {"bucket": "t"}}},
        {**_NAMED, "data_asset_ids": ["asset"], "target": {"aws": {"bucket": "t"}}},
        {**_NAMED, "source": _RUN, "target": {}},
        {**_NAMED, "source": {"cloud_workstation": {"id": "run"}}},
        {**_NAMED, "source": {"cloud_workstation": {"id": "nope", "path": "p"}}},
        {**_NAMED, "source": _RUN, "tags": "t"},
        {**_NAMED, "source": "aws"},
        [1, 2],
    ],
)
async def test_create_refuses(fake: FakeCodeOcean, send: Any, body: Any) -> None:
    answer = await send("POST", "data_assets", body)
    assert answer.status_code == 400, answer.text
    assert fake.created_data_assets == []


async def test_the_input_bucket_needs_no_bucket(send: Any) -> None:
    body = {**_NAMED, "tags": [], "source": {"aws": {"use_input_bucket": True, "prefix": "p"}}}
    answer = await send("POST", "data_assets", body)
    assert answer.status_code == 200
    assert answer.json()["source_bucket"]["prefix"] == "p"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "data_assets/asset/permissions", {"users": [{"email": "a", "role": "boss"}]}),
        ("POST", "data_assets/asset/permissions", {"groups": [{"role": "viewer"}]}),
        ("POST", "data_assets/asset/permissions", {"everyone": "owner"}),
        ("POST", "data_assets/search", {"sort_field": "colour"}),
        ("POST", "data_assets/search", {"limit": 1001}),
        ("POST", "data_assets/search", {"offset": -1}),
        ("POST", "data_assets/asset/transfer", {"target": {}}),
        ("POST", "data_assets/asset/transfer", {"target": {"aws": {"bucket": "b"}}, "force": 1}),
        ("PUT", "data_assets/asset", {"tags": [1]}),
        ("PUT", "data_assets/asset", {"name": 3}),
    ],
)
async def test_other_routes_refuse(send: Any, method: str, path: str, body: dict[str, Any]) -> None:
    answer = await send(method, path, body)
    assert answer.status_code == 400, answer.text


@pytest.mark.parametrize("path", ["data_assets/nope", "data_assets/nope/permissions"])
async def test_unknown_assets_are_404(send: Any, path: str) -> None:
    assert (await send("GET", path)).status_code == 404


async def test_search_sorts_and_filters(fake: FakeCodeOcean, send: Any) -> None:
    fake.add_data_asset(name="beta")
    fake.add_data_asset(name="alpha")
    answer = await send("POST", "data_assets/search", {"sort_field": "name"})
    assert [a["name"] for a in answer.json()["results"]] == ["Data", "alpha", "beta"]
    body = {"sort_field": "name", "sort_order": "desc", "query": 'name:"a" tag:x'}
    assert (await send("POST", "data_assets/search", body)).json()["results"] == []
    typed = await send("POST", "data_assets/search", {"type": "result"})
    assert typed.json() == {"has_more": False, "results": []}


def test_seeding_checks_its_input(fake: FakeCodeOcean) -> None:
    with pytest.raises(ValueError, match="outcome"):
        fake.plan_next_data_asset(outcome="maybe")
    with pytest.raises(ValueError, match="delay"):
        fake.plan_next_data_asset(delay=-1)
    with pytest.raises(ValueError, match="data_asset_delay"):
        fake.data_asset_delay = -1
    fake.data_asset_delay = 5
    assert fake.data_asset_delay == 5.0


async def test_a_planned_failure_without_a_reason_gets_one(
    fake: FakeCodeOcean, clock: ManualClock, send: Any
) -> None:
    fake.plan_next_data_asset(outcome="failed", delay=2)
    body = {**_NAMED, "tags": [], "source": {"gcp": {"bucket": "g"}}}
    created = (await send("POST", "data_assets", body)).json()
    assert fake.data_assets[created["id"]]["state"] == "draft"
    clock.advance(2)
    failed = fake.data_assets[created["id"]]
    assert failed["state"] == "failed"
    assert failed["failure_reason"]
