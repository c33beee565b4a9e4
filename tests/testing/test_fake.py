"""The fake's routes: auth, version check, capsules, pipelines, computations, request log."""

import base64

import httpx
import pytest

from codeocean_async.testing import FakeCodeOcean, ManualClock, RecordedRequest

from .conftest import API, BASE_URL

CAPSULE_ID = "4bc97533-6eb4-48ac-966f-648548a756d2"


def basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_token_is_generated_or_kept():
    a, b = FakeCodeOcean(), FakeCodeOcean()
    assert a.token.startswith("cop_")
    assert len(a.token) > 20
    assert a.token != b.token
    assert FakeCodeOcean(token="cop_mine").token == "cop_mine"
    assert "cop_" not in repr(a)


def test_bad_server_version_is_rejected():
    with pytest.raises(ValueError, match="server_version"):
        FakeCodeOcean(server_version="four")


@pytest.mark.anyio
async def test_get_capsule_returns_its_json(fake, http):
    fake.add_capsule(
        id=CAPSULE_ID,
        name="deepTools-bamCoverage",
        slug="7607289",
        created=1673385764,
        versions=(1, {"major_version": 2, "minor_version": 1, "release_time": 1680000000}),
        description="coverage",
        field="Bioinformatics",
        tags=("ChIP",),
    )
    response = await http.get(f"/capsules/{CAPSULE_ID}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "id": CAPSULE_ID,
        "created": 1673385764,
        "name": "deepTools-bamCoverage",
        "status": "release",
        "owner": "467ef120-2c93-42eb-8865-5866004243bf",
        "owner_email": "owner@example.com",
        "slug": "7607289",
        "description": "coverage",
        "field": "Bioinformatics",
        "tags": ["ChIP"],
        "versions": [
            {"major_version": 1, "minor_version": 0, "release_time": 1673385764 + 86400},
            {"major_version": 2, "minor_version": 1, "release_time": 1680000000},
        ],
    }


@pytest.mark.anyio
async def test_unreleased_capsule_omits_empty_optional_fields(fake, clock, http):
    clock.advance(5)
    capsule = fake.add_capsule(owner_email=None)
    body = (await http.get(f"/capsules/{capsule['id']}")).json()
    assert body == capsule
    assert body["status"] == "non_release"
    assert body["created"] == 1_700_000_005
    assert body["slug"].isdigit()
    assert body["tags"] == []
    assert not {"versions", "description", "field", "owner_email"} & body.keys()


@pytest.mark.anyio
async def test_stored_capsule_dict_is_live(fake, http):
    capsule = fake.add_capsule(id="c1")
    capsule["brand_new_field"] = {"x": 1}
    assert (await http.get("/capsules/c1")).json()["brand_new_field"] == {"x": 1}


def test_duplicate_ids_are_refused(fake):
    fake.add_capsule(id="same")
    with pytest.raises(ValueError, match="already exists"):
        fake.add_pipeline(id="same")


@pytest.mark.anyio
async def test_pipelines_and_capsules_are_separate(fake, http):
    pipeline = fake.add_pipeline(id="p1", name="nf-core")
    capsule = fake.add_capsule(id="c1")
    assert (await http.get("/pipelines/p1")).json() == pipeline
    assert pipeline["name"] == "nf-core"
    response = await http.get("/capsules/p1")
    assert response.status_code == 404
    assert response.json() == {"message": "Capsule p1 not found"}
    assert (await http.get("/pipelines/c1")).status_code == 404
    assert (await http.get("/capsules/c1")).json() == capsule


@pytest.mark.anyio
async def test_get_data_asset(fake, http):
    asset = fake.add_data_asset(id="d1", name="Alignment", mount="Alignment")
    body = (await http.get("/data_assets/d1")).json()
    assert body == asset
    assert (body["state"], body["mount"]) == ("ready", "Alignment")
    assert (await http.get("/data_assets/nope")).status_code == 404


@pytest.mark.anyio
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic("cop_wrong"),
        basic("cop_test", "secret"),
        "Bearer cop_test",
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b"\xff\xfe").decode(),
    ],
)
async def test_bad_auth_is_401(fake, authorization):
    fake.add_capsule(id="c1")
    headers = {} if authorization is None else {"Authorization": authorization}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake), base_url=BASE_URL
    ) as client:
        response = await client.get(f"{API}/capsules/c1", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["message"], str)
    (recorded,) = fake.requests
    assert recorded.auth_ok is False
    assert "authorization" not in recorded.headers


@pytest.mark.anyio
async def test_auth_is_checked_before_routing(fake):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake), base_url=BASE_URL
    ) as client:
        assert (await client.get("/nowhere")).status_code == 401


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("header", "status"),
    [("4.8.0", 200), ("4.6", 200), ("3", 200), ("4.8.1", 400), ("5.0.0", 400), ("abc", 400)],
)
async def test_min_server_version(fake, http, header, status):
    fake.add_capsule(id="c1")
    response = await http.get("/capsules/c1", headers={"Min-Server-Version": header})
    assert response.status_code == status
    if status == 400:
        assert header in response.json()["message"]


@pytest.mark.anyio
async def test_newer_server_accepts_newer_minimum(clock):
    fake = FakeCodeOcean(token="t", clock=clock, server_version="5.1")
    fake.add_capsule(id="c1")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake), base_url=BASE_URL, auth=("t", "")
    ) as client:
        response = await client.get(f"{API}/capsules/c1", headers={"Min-Server-Version": "5.0.9"})
    assert response.status_code == 200


@pytest.mark.anyio
async def test_unknown_route_404_and_wrong_method_405(fake, http):
    fake.add_capsule(id="c1")
    for path in ("/capsules", "/capsules/c1/nope", "/computations/", "/widgets/1"):
        response = await http.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"message": "Not found"}
    response = await http.put("/capsules/c1")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET"
    assert "message" in response.json()
    assert (await http.put("/computations/x")).headers["allow"] == "DELETE, GET, PATCH"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake), base_url=BASE_URL, auth=(fake.token, "")
    ) as client:
        assert (await client.get("/api/v2/capsules/c1")).status_code == 404


@pytest.mark.anyio
async def test_ids_are_url_decoded_segments(fake, http):
    fake.add_capsule(id="has space")
    assert (await http.get("/capsules/has%20space")).status_code == 200
    fake.add_capsule(id="a")
    # An encoded slash stays inside the id: no capsule is called "a/computations".
    assert (await http.get("/capsules/a%2Fcomputations")).status_code == 404
    assert (await http.get("/capsules/a/computations")).status_code == 200


@pytest.mark.anyio
async def test_list_computations_oldest_first(fake, clock, http):
    fake.add_capsule(id="c1")
    fake.add_capsule(id="c2")
    fake.add_pipeline(id="p1")
    first = fake.add_computation(capsule_id="c1", id="k1")
    fake.add_computation(capsule_id="c2", id="other")
    fake.add_computation(pipeline_id="p1", id="k3")
    clock.advance(1)
    posted = (await http.post("/computations", json={"capsule_id": "c1"})).json()
    listed = (await http.get("/capsules/c1/computations")).json()
    assert [c["id"] for c in listed] == ["k1", posted["id"]]
    assert listed[0] == first
    assert [c["id"] for c in (await http.get("/pipelines/p1/computations")).json()] == ["k3"]
    assert (await http.get("/capsules/c3/computations")).status_code == 404
    assert (await http.get("/pipelines/c1/computations")).status_code == 404
    assert (await http.get("/capsules/c2/computations")).json()[0]["id"] == "other"


@pytest.mark.anyio
async def test_get_computation(fake, http):
    computation = fake.add_computation(name="Run 1", extra_field=[1, 2])
    response = await http.get(f"/computations/{computation['id']}")
    assert response.status_code == 200
    assert response.json() == computation
    assert computation["extra_field"] == [1, 2]
    response = await http.get("/computations/missing")
    assert response.status_code == 404
    assert response.json() == {"message": "Computation missing not found"}


@pytest.mark.anyio
async def test_rename(fake, http):
    comp_id = fake.add_computation()["id"]
    response = await http.patch(f"/computations/{comp_id}", params={"name": "My run"})
    assert (response.status_code, response.content) == (204, b"")
    assert (await http.get(f"/computations/{comp_id}")).json()["name"] == "My run"
    for params in ({}, {"name": ""}, {"name": "  "}):
        response = await http.patch(f"/computations/{comp_id}", params=params)
        assert response.status_code == 400
        assert "name" in response.json()["message"]
    assert (await http.patch("/computations/nope", params={"name": "x"})).status_code == 404
    assert fake.computations[comp_id]["name"] == "My run"


def test_add_computation_checks_its_arguments(fake):
    fake.add_capsule(id="c1")
    fake.add_pipeline(id="p1")
    with pytest.raises(ValueError, match="not both"):
        fake.add_computation(capsule_id="c1", pipeline_id="p1")
    with pytest.raises(ValueError, match="no capsule"):
        fake.add_computation(capsule_id="p1")
    with pytest.raises(ValueError, match="outcome"):
        fake.add_computation(outcome="exploded")
    fake.add_computation(id="k1")
    with pytest.raises(ValueError, match="already exists"):
        fake.add_computation(id="k1")
    with pytest.raises(ValueError, match="durations"):
        fake.add_computation(durations=(1, -1, 0))
    with pytest.raises(ValueError, match="durations"):
        fake.plan_next_run(durations=(1, 2))
    with pytest.raises(ValueError, match="outcome"):
        fake.plan_next_run(outcome="succeeded ")


def test_views_are_snapshots(fake):
    comp_id = fake.add_computation()["id"]
    view = fake.computations
    with pytest.raises(TypeError):
        view["x"] = {}
    fake.requests.append(RecordedRequest("GET", "/", {}, {}, True, None))
    fake.created_computations.append("x")
    assert fake.requests == []
    assert fake.created_computations == []  # add_computation is not a POST
    assert list(view) == [comp_id]


@pytest.mark.anyio
async def test_request_log(fake, http):
    fake.add_capsule(id="c1")
    await http.get("/capsules/c1", headers={"X-Trace": "abc"})
    await http.patch("/computations/none", params={"name": "a b", "x": "1"})
    await http.post("/computations", content=b"not json {")
    await http.post("/computations", json={"capsule_id": "c1", "version": None})
    get, patch, post_text, post_json = fake.requests
    assert get == RecordedRequest(
        method="GET",
        path="/api/v1/capsules/c1",
        query={},
        headers=get.headers,
        auth_ok=True,
        body=None,
    )
    assert get.headers["x-trace"] == "abc"
    assert get.headers["min-server-version"] == "4.8.0"
    assert "authorization" not in get.headers
    assert fake.token not in repr(fake.requests)
    assert (patch.method, patch.query) == ("PATCH", {"name": "a b", "x": "1"})
    assert post_text.body == "not json {"
    assert post_json.body == {"capsule_id": "c1", "version": None}
    with pytest.raises(AttributeError):
        get.method = "PUT"
    fake.reset_requests()
    assert fake.requests == []


def test_manual_clock():
    clock = ManualClock()
    assert clock.now() == 0.0
    clock.advance(1.5)
    clock.advance(0)
    assert clock.now() == 1.5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)
    assert "1.5" in repr(clock)
