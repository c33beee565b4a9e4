"""The fault plan: what each fault puts on the wire, whether the server acted, matching, logs."""

import json
from typing import Any

import anyio
import httpx
import pytest

from codeocean_async import CodeOceanError
from codeocean_async.testing import Fault, FaultPlan

from .conftest import API, BASE_URL

RUN = {"capsule_id": "c1"}
ALL_KINDS = [
    Fault.rate_limited(),
    Fault.server_error(),
    Fault.slow(0.001),
    Fault.drop_before(),
    Fault.drop_after(),
    Fault.truncated_json(),
    Fault.malformed_json(),
    Fault.drift(),
]
ACTING = {"slow", "drop_after", "truncated_json", "malformed_json", "drift"}


@pytest.fixture
def seeded(fake):
    fake.add_capsule(id="c1")
    return fake


@pytest.mark.anyio
async def test_no_plan_changes_nothing(seeded, http):
    assert isinstance(seeded.faults, FaultPlan)
    assert "pending=0" in repr(seeded.faults)
    response = await http.post("/computations", json=RUN)
    assert response.status_code == 200
    assert "x-fake-dropped" not in response.headers
    assert response.json() == seeded.computations[response.json()["id"]]
    assert seeded.faults.injected == []
    assert [r.fault for r in seeded.requests] == [None]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("retry_after", "header"),
    [(None, None), (2, "2"), (0.25, "0.25"), (3.0, "3"), ("Wed, 21 Oct 2015 07:28:00 GMT",) * 2],
)
async def test_rate_limited(seeded, http, retry_after, header):
    seeded.faults.script("POST", "/computations", Fault.rate_limited(retry_after))
    response = await http.post("/computations", json=RUN)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert isinstance(response.json()["message"], str)
    assert response.headers.get("retry-after") == header
    assert seeded.created_computations == []


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_error_json_and_html(seeded, http, status):
    seeded.faults.script(
        "POST", "/computations", Fault.server_error(status), Fault.server_error(status, html=True)
    )
    response = await http.post("/computations", json=RUN)
    assert response.status_code == status
    assert isinstance(response.json()["message"], str)
    assert "retry-after" not in response.headers
    page = await http.post("/computations", json=RUN)
    assert (page.status_code, page.headers["content-type"]) == (status, "text/html")
    assert page.text.startswith("<html>")
    assert f"<h1>{status} " in page.text
    assert "nginx" in page.text
    assert seeded.created_computations == []


@pytest.mark.anyio
async def test_slow_waits_then_acts(seeded, http):
    seeded.faults.script("POST", "/computations", Fault.slow(0.02))
    start = anyio.current_time()
    response = await http.post("/computations", json=RUN)
    assert anyio.current_time() - start >= 0.02
    assert response.status_code == 200
    assert seeded.created_computations == [response.json()["id"]]


@pytest.mark.anyio
@pytest.mark.parametrize(("fault", "created"), [(Fault.drop_before(), 0), (Fault.drop_after(), 1)])
async def test_drops_raise_in_process(seeded, http, fault, created):
    seeded.faults.script("POST", "/computations", fault)
    with pytest.raises(httpx.RemoteProtocolError, match="complete response") as info:
        await http.post("/computations", json=RUN)
    assert info.value.request.url.path == f"{API}/computations"
    assert len(seeded.created_computations) == created
    assert (await http.post("/computations", json=RUN)).status_code == 200


@pytest.mark.anyio
async def test_truncated_json(seeded, http):
    seeded.faults.script("POST", "/computations", Fault.truncated_json())
    response = await http.post("/computations", json=RUN)
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    (comp_id,) = seeded.created_computations
    full = json.dumps(seeded.computations[comp_id]).encode()
    assert response.content == full[: len(full) // 2]
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.anyio
async def test_malformed_json(seeded, http):
    seeded.faults.script("GET", "/capsules/*", Fault.malformed_json())
    response = await http.get("/capsules/c1")
    assert (response.status_code, response.content) == (200, b'{"id": ')
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.anyio
@pytest.mark.parametrize("fault", ALL_KINDS, ids=repr)
async def test_which_faults_let_the_server_act(seeded, http, fault):
    """A run starts, a rename applies, a stop stops exactly when the fault kind acts."""
    comp_id = seeded.add_computation(capsule_id="c1", durations=(5, 5, 5))["id"]
    seeded.faults.script("POST", "/computations", fault)
    seeded.faults.script("*", "/computations/*", fault, fault)
    acted, dropped = fault.kind in ACTING, fault.kind.startswith("drop")
    assert fault.acts is acted

    async def send(method: str, url: str, **kwargs: Any) -> None:
        try:
            await http.request(method, url, **kwargs)
        except httpx.RemoteProtocolError:
            assert dropped
        else:
            assert not dropped

    await send("POST", "/computations", json=RUN)
    await send("PATCH", f"/computations/{comp_id}", params={"name": "renamed"})
    await send("DELETE", f"/computations/{comp_id}")
    assert len(seeded.created_computations) == int(acted)
    after = seeded.computations[comp_id]
    assert (after["name"] == "renamed") is acted
    assert (after["state"], after.get("end_status")) == (
        ("completed", "stopped") if acted else ("initializing", None)
    )
    assert [r.fault for r in seeded.requests] == [fault.kind] * 3
    assert seeded.faults.pending == 0


@pytest.mark.anyio
async def test_body_less_answers_pass_acting_faults_unchanged(fake, http):
    comp_id = fake.add_computation()["id"]
    for fault in (Fault.truncated_json(), Fault.malformed_json(), Fault.drift()):
        fake.faults.script("PATCH", "/computations/*", fault)
        response = await http.patch(f"/computations/{comp_id}", params={"name": fault.kind})
        assert (response.status_code, response.content) == (204, b"")
    assert fake.computations[comp_id]["name"] == "drift"


@pytest.mark.anyio
async def test_plain_asgi_transport_still_works(seeded):
    seeded.faults.script("POST", "/computations", Fault.server_error(502), Fault.truncated_json())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=seeded), base_url=BASE_URL + API, auth=("cop_test", "")
    ) as client:
        assert (await client.post("/computations", json=RUN)).status_code == 502
        truncated = await client.post("/computations", json=RUN)
        assert truncated.status_code == 200
        assert (await client.get("/capsules/c1")).json()["id"] == "c1"
    assert len(seeded.created_computations) == 1


@pytest.mark.anyio
async def test_the_plugin_client_sees_drops(codeocean_client, codeocean_fake):
    """``codeocean_client`` goes through ``fake.transport()``: a drop is a transport error."""
    codeocean_fake.add_capsule(id="c1")
    codeocean_fake.faults.random("GET", "/capsules/*", rate=1.0, choices=[Fault.drop_before()])
    with pytest.raises(CodeOceanError) as info:
        await codeocean_client.capsules.get("c1")
    causes = []
    error: BaseException | None = info.value
    while error is not None:
        causes.append(error)
        error = error.__cause__ or error.__context__
    assert any(isinstance(e, httpx.RemoteProtocolError) for e in causes)
    assert {r.fault for r in codeocean_fake.requests} == {"drop_before"}
