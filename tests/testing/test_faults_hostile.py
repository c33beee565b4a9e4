"""The hostile fault kinds: bad gzip, bad IDs, echoed tokens, trickles, and malformed HTTP."""

import base64
import gzip
import json
from functools import partial
from urllib.parse import quote

import httpx
import pytest

from codeocean_async.testing import FakeCodeOcean, Fault, serve_in_thread
from codeocean_async.testing._faults import ECHO_SPELLINGS, KINDS

RUN = {"capsule_id": "c1"}
TOKEN = 'cop_ü"\\/ŧøķen-1234567890'


@pytest.fixture
def seeded(fake):
    fake.add_capsule(id="c1")
    return fake


def spellings(token: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{token}:".encode()).decode()
    return {
        "header": f"Basic {encoded}",
        "token": token,
        "percent": quote(token, safe=""),
        "base64": encoded,
    }


def test_new_kinds_are_listed_and_checked():
    assert KINDS[-5:] == ("bad_gzip", "bad_id", "echo_token", "trickle", "malformed_http")
    acting = [
        Fault.bad_gzip(),
        Fault.bad_id("a/b"),
        Fault.trickle(0.5),
        Fault.echo_token(500),
        Fault.echo_token(503, acts=True),
        Fault.malformed_http(),
    ]
    not_acting = [Fault.echo_token(400), Fault.echo_token(503), Fault.malformed_http(acts=False)]
    assert [f.acts for f in acting + not_acting] == [True] * 6 + [False] * 3
    assert repr(Fault.trickle(0.5)) == "Fault.trickle(0.5)"
    assert repr(Fault.bad_id("x?y")) == "Fault.bad_id('x?y')"
    assert (
        repr(Fault.malformed_http("chunk_size")) == "Fault.malformed_http('chunk_size', acts=True)"
    )
    assert "ensure_ascii=True" in repr(Fault.echo_token(400, "token", ensure_ascii=True))
    for bad in (
        partial(Fault.echo_token, 404),
        partial(Fault.echo_token, 400, "rot13"),
        partial(Fault.malformed_http, "nonsense"),
        partial(Fault.bad_id, ""),
        partial(Fault.trickle, -1),
        partial(Fault, "drop_before", acting=True),
    ):
        with pytest.raises(ValueError):
            bad()


@pytest.mark.anyio
async def test_bad_gzip_acts_and_says_gzip_over_plain_json(seeded, http):
    seeded.faults.script("POST", "/computations", Fault.bad_gzip())
    async with http.stream("POST", "/computations", json=RUN) as response:
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(raw)
    (comp_id,) = seeded.created_computations
    assert json.loads(raw)["id"] == comp_id


@pytest.mark.anyio
@pytest.mark.parametrize("bad", ["../etc/passwd", "a/b", "x?y"])
async def test_bad_id_in_one_computation_and_in_a_list(seeded, http, bad):
    seeded.faults.script("POST", "/computations", Fault.bad_id(bad))
    seeded.faults.script("GET", "/capsules/*/computations", Fault.bad_id(bad))
    launched = await http.post("/computations", json=RUN)
    assert launched.json()["id"] == bad
    second = (await http.post("/computations", json=RUN)).json()["id"]
    assert len(seeded.created_computations) == 2  # the first acted too
    assert bad not in seeded.computations
    listed = (await http.get("/capsules/c1/computations")).json()
    assert [c["id"] for c in listed] == [bad, bad]
    assert second in [c["id"] for c in (await http.get("/capsules/c1/computations")).json()]


@pytest.mark.anyio
@pytest.mark.parametrize("spelling", ECHO_SPELLINGS)
@pytest.mark.parametrize("ensure_ascii", [False, True])
async def test_echo_token_json_body(clock, spelling, ensure_ascii):
    fake = FakeCodeOcean(token=TOKEN, clock=clock)
    fake.add_capsule(id="c1")
    fake.faults.script(
        "POST", "/computations", Fault.echo_token(400, spelling, ensure_ascii=ensure_ascii)
    )
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url="http://t/api/v1", auth=(TOKEN, "")
    ) as http:
        response = await http.post("/computations", json=RUN)
    echo = spellings(TOKEN)[spelling]
    assert response.status_code == 400
    assert response.json()["authorization"] == echo
    assert echo in response.json()["message"]
    escaped = json.dumps(echo, ensure_ascii=ensure_ascii)[1:-1]
    assert escaped.encode() in response.content
    if ensure_ascii:
        assert response.content.isascii()
    assert fake.created_computations == []


@pytest.mark.anyio
@pytest.mark.parametrize(("status", "acts"), [(400, False), (503, False), (500, True)])
async def test_echo_token_html_page_and_whether_it_acts(clock, status, acts):
    fake = FakeCodeOcean(token=TOKEN, clock=clock)
    fake.add_capsule(id="c1")
    fake.faults.script("POST", "/computations", Fault.echo_token(status, "header", html=True))
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url="http://t/api/v1", auth=(TOKEN, "")
    ) as http:
        response = await http.post("/computations", json=RUN)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert spellings(TOKEN)["header"] in response.text
    assert len(fake.created_computations) == int(acts)


@pytest.mark.anyio
async def test_trickle_in_process_is_only_slow(seeded, http):
    seeded.faults.script("POST", "/computations", Fault.trickle(0))
    response = await http.post("/computations", json=RUN)
    (comp_id,) = seeded.created_computations
    assert response.json() == seeded.computations[comp_id]


@pytest.mark.anyio
@pytest.mark.parametrize("acts", [True, False])
async def test_malformed_http_in_process_is_a_dropped_connection(seeded, http, acts):
    seeded.faults.script("POST", "/computations", Fault.malformed_http("chunk_size", acts=acts))
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/computations", json=RUN)
    assert len(seeded.created_computations) == int(acts)


@pytest.mark.anyio
async def test_uvicorn_drops_malformed_http_and_trickles_for_real():
    fake = FakeCodeOcean(token="t")
    fake.add_capsule(id="c1")
    fake.faults.script(
        "POST", "/computations", Fault.malformed_http("status_line"), Fault.trickle(0.001)
    )
    with serve_in_thread(fake) as url:
        async with httpx.AsyncClient(base_url=f"{url}/api/v1", auth=("t", "")) as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.post("/computations", json=RUN)
            trickled = await client.post("/computations", json=RUN)
    _first, second = fake.created_computations
    assert trickled.json()["id"] == second
