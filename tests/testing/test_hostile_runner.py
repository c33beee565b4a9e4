"""serve_hostile_in_thread: the bytes each fault kind puts on a raw socket, and its exchanges."""

import base64
import json
import socket
import time

import anyio
import httpx
import pytest

from codeocean_async.testing import Exchange, FakeCodeOcean, Fault, serve_hostile_in_thread

RUN = b'{"capsule_id": "c1"}'
AUTH = b"Basic " + base64.b64encode(b"t:")


@pytest.fixture
def fake() -> FakeCodeOcean:
    fake = FakeCodeOcean(token="t")
    fake.add_capsule(id="c1")
    return fake


def connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def request(method: bytes, path: bytes, body: bytes = b"", *, close: bool = True) -> bytes:
    head = b"%s /api/v1%s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n" % (method, path, AUTH)
    if close:
        head += b"Connection: close\r\n"
    if body:
        head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


def until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def post_raw(url: str) -> bytes:
    with connect(url) as sock:
        sock.sendall(request(b"POST", b"/computations", RUN))
        return until_closed(sock)


@pytest.mark.parametrize(
    ("variant", "broken"),
    [
        ("status_line", b"HTTP/1.1 2OO OK\r\n"),
        ("header_line", b"\r\nX-Broken header line without a colon\r\n"),
        ("chunk_size", b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ("content_length", b"\r\nContent-Length: twelve\r\n"),
    ],
)
@pytest.mark.parametrize("acts", [True, False])
def test_malformed_http_bytes_then_close(fake, variant, broken, acts):
    fake.faults.script("POST", "/computations", Fault.malformed_http(variant, acts=acts))
    exchanges: list[Exchange] = []
    with serve_hostile_in_thread(fake, exchanges=exchanges) as url:
        answer = post_raw(url)  # returns: the server closed the connection
    assert broken in answer
    assert b"x-fake" not in answer.lower()
    assert len(fake.created_computations) == int(acts)
    if acts:
        assert fake.created_computations[0].encode() in answer
    (exchange,) = exchanges
    assert (exchange.method, exchange.malformed, exchange.finished) == ("POST", variant, True)


def test_short_body_promises_more_than_it_sends(fake):
    fake.faults.script("POST", "/computations", Fault.malformed_http("short_body"))
    with serve_hostile_in_thread(fake) as url:
        answer = post_raw(url)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    length = [line for line in head.split(b"\r\n") if line.startswith(b"Content-Length: ")]
    assert int(length[0].split(b": ")[1]) == len(body) + 100
    assert fake.created_computations[0].encode() in body


def test_drops_close_mid_answer_and_are_recorded_unfinished(fake):
    fake.faults.script("POST", "/computations", Fault.drop_after(), Fault.drop_before())
    exchanges: list[Exchange] = []
    with serve_hostile_in_thread(fake, exchanges=exchanges) as url:
        after, before = post_raw(url), post_raw(url)
    for answer in (after, before):
        head, _, body = answer.partition(b"\r\n\r\n")
        length = [line for line in head.split(b"\r\n") if line.startswith(b"content-length: ")]
        assert 0 < len(body) < int(length[0].split(b": ")[1])
    assert len(fake.created_computations) == 1
    assert [e.finished for e in exchanges] == [False, False]


def test_trickle_sends_one_byte_at_a_time(fake):
    fake.faults.script("POST", "/computations", Fault.trickle(0.02))
    with serve_hostile_in_thread(fake) as url, connect(url) as sock:
        sock.sendall(request(b"POST", b"/computations", RUN))
        received = b""
        while b"\r\n\r\n" not in received:
            received += sock.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        length = int(
            next(
                v
                for k, _, v in (line.partition(b": ") for line in head.split(b"\r\n"))
                if k == b"content-length"
            )
        )
        started = time.monotonic()
        sizes = []
        while len(body) < length:
            chunk = sock.recv(65536)
            assert chunk
            sizes.append(len(chunk))
            body += chunk
        took = time.monotonic() - started
    assert fake.created_computations[0].encode() in body
    assert max(sizes) <= 3  # single bytes (two may meet in the kernel's buffer)
    assert took >= 0.5 * 0.02 * (length - 2)


@pytest.mark.anyio
async def test_a_client_that_leaves_a_trickle_ends_its_exchange(fake):
    fake.faults.script("POST", "/computations", Fault.trickle(0.05))
    exchanges: list[Exchange] = []
    with serve_hostile_in_thread(fake, exchanges=exchanges) as url:
        with connect(url) as sock:
            sock.sendall(request(b"POST", b"/computations", RUN))
            sock.recv(65536)
        with anyio.fail_after(5):  # the server sees the close at its next byte
            while not exchanges:  # noqa: ASYNC110 - the server thread appends
                await anyio.sleep(0.01)
    (exchange,) = exchanges
    assert not exchange.finished
    assert exchange.seconds < 5  # not the whole trickle (300+ bytes x 0.05 s)


def test_stopping_the_server_cuts_a_trickle(fake):
    fake.faults.script("POST", "/computations", Fault.trickle(10))
    exchanges: list[Exchange] = []
    started = time.monotonic()
    with serve_hostile_in_thread(fake, exchanges=exchanges) as url, connect(url) as sock:
        sock.sendall(request(b"POST", b"/computations", RUN))
        sock.recv(65536)
    assert time.monotonic() - started < 5
    (exchange,) = exchanges
    assert not exchange.finished


def test_keep_alive_and_a_chunked_request_body(fake):
    with serve_hostile_in_thread(fake) as url, connect(url) as sock:
        sock.sendall(request(b"GET", b"/capsules/c1", close=False))
        chunked = (
            b"POST /api/v1/computations HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b'5\r\n{"cap\r\n%x\r\n%s\r\n0\r\n\r\n'
        ) % (AUTH, len(RUN) - 5, RUN[5:])
        sock.sendall(chunked)
        answers = until_closed(sock)
    assert answers.count(b"HTTP/1.1 200 OK\r\n") == 2
    assert [r.body for r in fake.requests] == [None, {"capsule_id": "c1"}]


def test_a_garbled_request_closes_the_connection(fake):
    with serve_hostile_in_thread(fake) as url, connect(url) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")
        assert until_closed(sock) == b""
    assert fake.requests == []


@pytest.mark.anyio
async def test_httpx_over_the_hostile_runner(fake):
    fake.faults.script(
        "GET", "/computations/*", Fault.malformed_http("header_line"), Fault.trickle(0.001)
    )
    exchanges: list[Exchange] = []
    with serve_hostile_in_thread(fake, exchanges=exchanges) as url:
        async with httpx.AsyncClient(base_url=f"{url}/api/v1", auth=("t", "")) as client:
            launched = (await client.post("/computations", json={"capsule_id": "c1"})).json()
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"/computations/{launched['id']}")
            trickled = await client.get(f"/computations/{launched['id']}")
            assert trickled.json() == fake.computations[launched["id"]]
            again = await client.get(f"/computations/{launched['id']}")
            assert again.json()["id"] == launched["id"]
            assert "date" in again.headers
    assert [e.finished for e in exchanges] == [True, True, True, True]


@pytest.mark.parametrize(
    ("fault", "acts"),
    [
        (Fault.bad_gzip(), True),
        (Fault.bad_id("a/b"), True),
        (Fault.echo_token(400, "token"), False),
    ],
)
def test_other_kinds_bytes_on_a_raw_socket(fault, acts):
    token = 'cop_ü"\\/ŧøķen-1234567890'
    fake = FakeCodeOcean(token=token)
    fake.add_capsule(id="c1")
    fake.faults.script("POST", "/computations", fault)
    auth = b"Basic " + base64.b64encode(f"{token}:".encode())
    with serve_hostile_in_thread(fake) as url, connect(url) as sock:
        sock.sendall(request(b"POST", b"/computations", RUN).replace(AUTH, auth))
        head, _, body = until_closed(sock).partition(b"\r\n\r\n")
    assert len(fake.created_computations) == int(acts)
    if fault.kind == "bad_gzip":
        assert b"\r\ncontent-encoding: gzip" in head
        assert json.loads(body)["id"] == fake.created_computations[0]  # plain JSON, not gzip
    elif fault.kind == "bad_id":
        assert json.loads(body)["id"] == "a/b"
    else:
        assert head.startswith(b"HTTP/1.1 400 ")
        assert b'\\"\\\\/' in body  # '"' and '\\' JSON-escaped, the rest UTF-8
        assert "ŧøķ".encode() in body
        assert json.loads(body)["authorization"] == token
