"""A hostile wire, on both engines and both backends: every failure is a CodeOceanError, every
request is sent as often as the retry policy says and no more, and every request ends."""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import httpx
import pytest

import codeocean_async as co
from codeocean_async._config import ERROR_BODY_MAX
from codeocean_async._transport import Engine

from .wire_server import CLOSE, Request, Step, WireServer, response, serve

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_proxies")]

CAPSULE = b'{"id": "cap-1", "name": "Capsule", "created": 1700000000}'
RUN = b'{"id": "comp-1", "created": 1700000000, "state": "initializing"}'
#: Retries that never wait (stamina's testing mode drops the sleeps anyway).
RETRY = co.RetryPolicy(attempts=3, wait_initial=0.001, wait_max=0.002)


def client_for(server: WireServer, engine: Engine, **kwargs: Any) -> co.AsyncCodeOcean:
    kwargs.setdefault("retry", RETRY)
    return co.AsyncCodeOcean(
        domain=server.url, token="cop_wire_token_0123", engine=engine, **kwargs
    )


@pytest.fixture(params=["httpx", "aiohttp", "caller"])
def route(request: pytest.FixtureRequest, anyio_backend: str) -> str:
    """How requests reach the wire: the SDK's own client on either engine, or a caller's
    ``httpx.AsyncClient`` passed as ``http_client=``."""
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return cast(str, request.param)


@asynccontextmanager
async def client_by(server: WireServer, route: str) -> AsyncIterator[co.AsyncCodeOcean]:
    """A client on ``server`` by ``route`` (see the ``route`` fixture)."""
    if route != "caller":
        async with client_for(server, cast(Engine, route)) as client:
            yield client
        return
    async with (
        httpx.AsyncClient() as http_client,
        co.AsyncCodeOcean(
            domain=server.url, token="cop_wire_token_0123", http_client=http_client, retry=RETRY
        ) as client,
    ):
        yield client


def always(*steps: Step) -> Callable[[Request], Iterable[Step]]:
    return lambda request: steps


def ok_then(*steps: Step) -> Callable[[Request], Iterable[Step]]:
    """A first request answered well (the connection kept alive), every later one with steps."""
    return lambda request: [response(200, CAPSULE)] if request.method == "GET" else steps


# --- every failure is a CodeOceanError ----------------------------------------------------------

#: An answer that cannot be used: whether a body arrived but cannot be decoded (True) or the
#: connection failed on the way (False), and what the server sends.
FAULTS: dict[str, tuple[bool, tuple[Step, ...]]] = {
    "bad gzip": (True, (response(200, b"not gzip at all", headers={"content-encoding": "gzip"}),)),
    "bad deflate": (
        True,
        (response(200, b"\xff\xfe\x00", headers={"content-encoding": "deflate"}),),
    ),
    "malformed status line": (False, (b"HTTP/1.1 abc OK\r\ncontent-length: 2\r\n\r\n{}",)),
    "malformed header line": (
        False,
        (b"HTTP/1.1 200 OK\r\nthis is no header\r\ncontent-length: 2\r\n\r\n{}",),
    ),
    "bad chunk size": (
        False,
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",),
    ),
    "content-length past the body": (
        False,
        (b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{}", CLOSE),
    ),
    "content-length not a number": (
        False,
        (b"HTTP/1.1 200 OK\r\ncontent-length: two\r\n\r\n{}",),
    ),
    "conflicting content-lengths": (
        False,
        (b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 9\r\n\r\n{}",),
    ),
    "close before any byte": (False, (CLOSE,)),
    "close mid-headers": (False, (b"HTTP/1.1 200 OK\r\ncontent-ty", CLOSE)),
    "close mid-body": (False, (b'HTTP/1.1 200 OK\r\ncontent-length: 60\r\n\r\n{"id": ', CLOSE)),
}


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_read_meets_a_hostile_answer(fault: str, route: str) -> None:
    undecodable, steps = FAULTS[fault]
    with serve(always(*steps)) as server:
        async with client_by(server, route) as client:
            with pytest.raises(co.CodeOceanError) as info:
                await client.capsules.get("cap-1")
    if undecodable:  # the body arrived: asking again would not change it
        assert isinstance(info.value, co.ResponseValidationError)
        assert "cannot be decoded" in str(info.value)
        assert server.count("GET") == 1
    else:  # a read is retried as the table says, and the last failure raised
        assert type(info.value) is co.APIConnectionError
        assert info.value.maybe_sent
        assert server.count("GET") == RETRY.attempts
    assert len(str(info.value)) < 500


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_run_meets_a_hostile_answer_and_is_never_resent(fault: str, route: str) -> None:
    _, steps = FAULTS[fault]
    with serve(always(*steps)) as server:
        async with client_by(server, route) as client:
            with pytest.raises(co.LaunchUncertainError) as info:
                await client.computations.run(capsule_id="cap-1")
    assert isinstance(info.value.__cause__, co.APIConnectionError | co.ResponseValidationError)
    assert server.count("POST") == 1


async def test_a_huge_id_is_refused_before_sending(engine: Engine) -> None:
    with serve(always(response(200, CAPSULE))) as server:
        async with client_for(server, engine) as client:
            with pytest.raises(ValueError, match="computation_id is too long"):
                await client.computations.get("c" * 100_000)
            with pytest.raises(ValueError, match="capsule_id"):
                await client.capsules.get("c" * 300)
    assert server.requests == []


async def test_a_query_too_long_for_a_url_is_refused_naming_the_parameter(engine: Engine) -> None:
    with serve(always(response(200, b"{}"))) as server:
        async with client_for(server, engine) as client:
            with pytest.raises(ValueError, match="'name'") as info:
                await client.computations.rename("comp-1", name="n" * 100_000)
    assert not isinstance(info.value, co.CodeOceanError)  # the caller's input, not the wire
    assert len(str(info.value)) < 500
    assert server.requests == []


# --- no engine acts on its own ------------------------------------------------------------------


async def test_a_dropped_delete_on_a_kept_alive_connection_arrives_once(engine: Engine) -> None:
    # The server stops the run, then drops the connection: a second DELETE would delete the run.
    with serve(ok_then(CLOSE)) as server:
        async with client_for(server, engine, retry=co.RetryPolicy()) as client:
            await client.capsules.get("cap-1")
            with pytest.raises(co.APIConnectionError) as info:
                await client.computations.delete("comp-1")
    deletes = [r for r in server.requests if r.method == "DELETE"]
    assert len(deletes) == 1
    assert (deletes[0].connection, deletes[0].number_on_connection) == (0, 1)  # reused
    assert not isinstance(info.value, co.APITimeoutError)  # a disconnect, not a timeout
    assert info.value.maybe_sent


async def test_a_dropped_read_is_sent_exactly_as_often_as_the_policy_says(engine: Engine) -> None:
    def handler(request: Request) -> Iterable[Step]:
        if request.number_on_connection == 0 and request.connection == 0:
            return [response(200, CAPSULE)]
        return [CLOSE]

    with serve(handler) as server:
        async with client_for(server, engine) as client:
            await client.capsules.get("cap-1")
            with pytest.raises(co.APIConnectionError):
                await client.capsules.get("cap-1")
    assert server.count("GET") == 1 + RETRY.attempts


# --- every request ends -------------------------------------------------------------------------


def trickle(status: int = 200) -> Callable[[Request], Iterator[Step]]:
    """Headers at once, then the body one byte every 0.2 s (for at most the server's life)."""

    def handler(request: Request) -> Iterator[Step]:
        yield f"HTTP/1.1 {status} OK\r\ncontent-length: 1000\r\n\r\n".encode()
        for _ in range(1000):
            yield b" "
            yield 0.2

    return handler


async def test_a_trickled_read_ends_at_the_retry_budget(engine: Engine) -> None:
    with serve(trickle(), lifetime=10) as server:
        async with client_for(server, engine, retry=co.RetryPolicy(timeout=1)) as client:
            started = time.monotonic()
            with pytest.raises(co.APITimeoutError, match="retry budget") as info:
                await client.capsules.get("cap-1")
            assert time.monotonic() - started < 6  # it used to never end
    assert info.value.maybe_sent


async def test_a_trickled_run_ends_uncertain_at_the_retry_budget(engine: Engine) -> None:
    with serve(trickle(), lifetime=10) as server:
        async with client_for(server, engine, retry=co.RetryPolicy(timeout=1)) as client:
            started = time.monotonic()
            with pytest.raises(co.LaunchUncertainError) as info:
                await client.computations.run(capsule_id="cap-1")
            assert time.monotonic() - started < 6
    assert isinstance(info.value.__cause__, co.APITimeoutError)
    assert server.count("POST") == 1


async def test_each_attempt_is_bounded_as_a_whole(engine: Engine) -> None:
    policy = co.RetryPolicy(attempts=2, attempt_timeout=0.3, timeout=20)
    with serve(trickle(503), lifetime=10) as server:
        async with client_for(server, engine, retry=policy) as client:
            started = time.monotonic()
            with pytest.raises(co.APITimeoutError, match="attempt_timeout"):
                await client.capsules.get("cap-1")
            assert time.monotonic() - started < 6
    assert server.count("GET") == 2  # a read that timed out is retried, then the bound raised


async def test_the_callers_own_cancellation_stays_a_cancellation(engine: Engine) -> None:
    with serve(trickle(), lifetime=10) as server:
        async with client_for(server, engine, retry=co.RetryPolicy(timeout=30)) as client:
            with anyio.move_on_after(0.3) as scope:
                await client.capsules.get("cap-1")
            assert scope.cancelled_caught  # no APITimeoutError: the caller's deadline won
            with pytest.raises(TimeoutError) as info:
                with anyio.fail_after(0.3):
                    await client.capsules.get("cap-1")
            assert not isinstance(info.value, co.CodeOceanError)


class Ticker:
    """Counts how long the event loop went without running another task."""

    def __init__(self) -> None:
        self.longest_gap = 0.0

    async def run(self) -> None:
        last = time.monotonic()
        while True:
            await anyio.sleep(0.01)
            now = time.monotonic()
            self.longest_gap = max(self.longest_gap, now - last)
            last = now


BIG_ERRORS = {
    "200 KB of '<'": response(500, b">" + b"<" * 200_000, headers={"content-type": "text/html"}),
    "200 KB of '<script'": response(
        500, b"<p>x</p>" + b"<script " * 25_000, headers={"content-type": "text/html"}
    ),
    "5 MB of text": response(400, b"oops " * 1_000_000, headers={"content-type": "text/plain"}),
    "5 MB of JSON": response(400, b'{"message": "' + b"m" * 5_000_000 + b'"}'),
    "60 KB JSON message": response(400, b'{"message": "' + b"m " * 30_000 + b'"}'),
    "gzip bomb": response(
        400, gzip.compress(b"x" * 20_000_000), headers={"content-encoding": "gzip"}
    ),
}


@pytest.mark.parametrize("body", BIG_ERRORS)
async def test_a_huge_error_body_gives_a_short_message_and_never_blocks(
    body: str, engine: Engine
) -> None:
    ticker = Ticker()
    with serve(always(BIG_ERRORS[body])) as server:
        async with client_for(server, engine) as client, anyio.create_task_group() as tasks:
            tasks.start_soon(ticker.run)
            with pytest.raises(co.APIStatusError) as info:
                await client.capsules.get("cap-1")
            tasks.cancel_scope.cancel()
    assert len(str(info.value)) < 500
    assert len(info.value.message) <= 300
    assert len(info.value.response.content) <= 64 * 1024  # the rest was never read
    assert ticker.longest_gap < 1.0  # the excerpt took 10 s of the event loop once


# --- a name that does not resolve ---------------------------------------------------------------


async def test_a_host_that_does_not_resolve_is_named_at_once(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="codeocean_async")
    async with co.AsyncCodeOcean(
        domain="acme.codeocean.invalid", token="cop_x", engine=engine
    ) as client:
        with pytest.raises(co.APIConnectionError) as info:
            await client.capsules.get("cap-1")
        with pytest.raises(co.APIConnectionError) as run_info:
            await client.computations.run(capsule_id="cap-1")
    if info.value.retryable or run_info.value.retryable:  # EAI_AGAIN: the resolver is down
        pytest.skip("the local resolver failed for a while: nothing to say about the name")
    for error in (info.value, run_info.value):
        assert "could not resolve host acme.codeocean.invalid" in str(error)
        assert not isinstance(error, co.APITimeoutError)
        assert error.maybe_sent is False
    assert not isinstance(run_info.value, co.LaunchUncertainError)
    attempts = [r for r in caplog.records if "failed after" in r.getMessage()]
    assert len(attempts) == 2  # one attempt each
    assert [r for r in caplog.records if r.getMessage().startswith("retrying")] == []


@pytest.mark.anyio
async def test_a_compressed_error_body_is_decoded_no_further_than_the_cap(engine: Engine) -> None:
    # 60 MB of zeros gzip to about 60 KB: under the cap on the wire, a bomb once decoded. Only
    # ERROR_BODY_MAX decoded bytes are ever made (found in review).
    bomb = gzip.compress(b"\0" * (60 * 1024 * 1024), 9)
    assert len(bomb) < ERROR_BODY_MAX
    answer = response(500, bomb, headers={"content-encoding": "gzip"})
    with serve(lambda request: [answer, CLOSE]) as server:
        async with co.AsyncCodeOcean(
            domain=server.url,
            token="cop_wire_token_0123",
            engine=engine,
            retry=co.RetryPolicy.none(),
        ) as client:
            with pytest.raises(co.ServerError) as info:
                await client.capsules.get("cap-1")
    assert len(info.value.response.content) <= ERROR_BODY_MAX
    assert len(str(info.value)) < 600
