"""Faults over a real socket: uvicorn really drops the connection, and says nothing about it."""

import logging
from collections.abc import Iterator

import httpx
import pytest

from codeocean_async.testing import FakeCodeOcean, Fault, serve_in_thread

RUN = {"capsule_id": "c1"}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def uvicorn_log() -> Iterator[_Records]:
    """What uvicorn's error logger emits (attach after the server started: it resets loggers)."""
    handler = _Records()
    yield handler
    logging.getLogger("uvicorn.error").removeHandler(handler)


@pytest.mark.anyio
async def test_drops_over_a_real_socket(uvicorn_log):
    fake = FakeCodeOcean(token="t")
    fake.add_capsule(id="c1")
    fake.faults.script("POST", "/computations", Fault.drop_before(), Fault.drop_after())
    fake.faults.script("GET", "/computations/*", Fault.drop_after(), Fault.rate_limited(0.5))
    with serve_in_thread(fake) as url:
        logging.getLogger("uvicorn.error").addHandler(uvicorn_log)
        async with httpx.AsyncClient(base_url=f"{url}/api/v1", auth=("t", "")) as client:
            with pytest.raises(httpx.RemoteProtocolError, match="peer closed"):
                await client.post("/computations", json=RUN)
            assert fake.created_computations == []
            with pytest.raises(httpx.RemoteProtocolError, match="peer closed"):
                await client.post("/computations", json=RUN)
            (comp_id,) = fake.created_computations
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"/computations/{comp_id}")
            limited = await client.get(f"/computations/{comp_id}")
            assert (limited.status_code, limited.headers["retry-after"]) == (429, "0.5")
            normal = await client.get(f"/computations/{comp_id}")
            assert normal.json()["id"] == comp_id
            assert "x-fake-dropped" not in normal.headers
    assert [r.fault for r in fake.requests] == [
        "drop_before",
        "drop_after",
        "drop_after",
        "rate_limited",
        None,
    ]
    assert [r.getMessage() for r in uvicorn_log.records if r.levelno >= logging.WARNING] == []


@pytest.mark.anyio
async def test_other_unfinished_answers_are_still_logged(uvicorn_log):
    """The fake hides uvicorn's complaint only for its own drops, not for another app's bug."""

    async def unfinished(scope, receive, send):
        if scope["type"] != "http":
            return
        headers = [(b"content-length", b"10")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"12345", "more_body": True})

    fake = FakeCodeOcean(token="t")
    fake.faults.script("GET", "/capsules/*", Fault.drop_before())
    with serve_in_thread(fake) as fake_url, serve_in_thread(unfinished) as url:
        logging.getLogger("uvicorn.error").addHandler(uvicorn_log)
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"{fake_url}/api/v1/capsules/c1")
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(url)
    messages = [r.getMessage() for r in uvicorn_log.records if r.levelno >= logging.WARNING]
    assert messages == ["ASGI callable returned without completing response."]
