"""The retry table: what is retried, after how long, and what a run request never does twice."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
import stamina

import codeocean_async as co
from codeocean_async._config import RETRY_AFTER_MIN
from codeocean_async._retry import retry_delay
from codeocean_async._status import error_from_response

from .conftest import mock_client

POLICY = co.RetryPolicy()
REQUEST = httpx.Request("GET", "https://acme.codeocean.com/api/v1/capsules/c")
CAPSULE = {"id": "c", "name": "n", "created": 1}


def _status(status: int, headers: dict[str, str] | None = None) -> co.APIStatusError:
    return error_from_response(
        httpx.Response(status, headers=headers, json={"message": "x"}, request=REQUEST)
    )


def _connection(maybe_sent: bool) -> co.APIConnectionError:
    return co.APIConnectionError("dropped", request=REQUEST, maybe_sent=maybe_sent)


# --- the decision, as a pure function -----------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "idempotent", "expected"),
    [
        (_status(429, {"retry-after": "7"}), True, 7.0),
        (_status(429, {"retry-after": "7"}), False, 7.0),  # the server did not act
        (_status(429, {"retry-after": "121"}), True, None),  # longer than retry_after_max
        (_status(429), False, "backoff"),
        (_connection(maybe_sent=False), False, "backoff"),  # never reached the server
        (_connection(maybe_sent=True), True, "backoff"),
        (_connection(maybe_sent=True), False, None),  # may have acted: never resend
        (co.APITimeoutError("t", request=REQUEST, maybe_sent=True), False, None),
        (co.APITimeoutError("t", request=REQUEST, maybe_sent=True), True, "backoff"),
        (_status(502), True, "backoff"),
        (_status(503), True, "backoff"),
        (_status(504), True, "backoff"),
        (_status(503, {"retry-after": "3"}), True, 3.0),
        (_status(503), False, None),
        (_status(500), True, None),
        (_status(400), True, None),
        (_status(401), True, None),
        (_status(403), True, None),
        (_status(404), True, None),
        (_status(409), True, None),
        (co.ResponseValidationError("bad"), True, None),
        (ValueError("not ours"), True, None),
    ],
)
def test_retry_table(exc: BaseException, idempotent: bool, expected: float | str | None) -> None:
    delay = retry_delay(
        exc, retry_number=3, policy=POLICY, idempotent=idempotent, rng=random.Random(1)
    )
    if expected == "backoff":
        assert delay is not None
        assert 0 <= delay <= 2.0  # full jitter under min(wait_max, 0.5 * 2**2)
    else:
        assert delay == expected


def test_backoff_is_full_jitter_capped_per_attempt() -> None:
    policy = co.RetryPolicy(wait_initial=0.5, wait_max=10)
    rng = random.Random(7)
    for retry_number, ceiling in [(1, 0.5), (2, 1), (3, 2), (4, 4), (5, 8), (6, 10), (60, 10)]:
        delays = [policy.backoff(retry_number, rng) for _ in range(300)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9  # the whole range is used...
        assert min(delays) < ceiling * 0.1  # ...down to (almost) nothing


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": True},
        {"timeout": -1},
        {"timeout": 0},
        {"attempt_timeout": 0},
        {"attempt_timeout": -5},
        {"attempt_timeout": float("nan")},
        {"reconcile_attempts": 0},
    ],
)
def test_retry_policy_refuses_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        co.RetryPolicy(**kwargs)


@pytest.mark.parametrize("hint", ["0", "-5", "0.001"])
@pytest.mark.parametrize("code", [429, 503])
def test_a_retry_after_of_nothing_waits_the_floor(hint: str, code: int) -> None:
    exc = _status(code, {"retry-after": hint})
    for retry_number in (1, 2, 5):
        delay = retry_delay(exc, retry_number=retry_number, policy=POLICY, idempotent=True)
        assert delay is not None
        assert delay >= RETRY_AFTER_MIN == 0.5


def test_a_name_that_does_not_resolve_is_never_retried() -> None:
    exc = co.APIConnectionError("x", request=REQUEST, maybe_sent=False, retryable=False)
    assert retry_delay(exc, retry_number=1, policy=POLICY, idempotent=True) is None


def test_the_attempt_bound_has_a_sane_default() -> None:
    assert 0 < POLICY.attempt_timeout <= POLICY.timeout


# --- the pipeline -------------------------------------------------------------------------------


class Script:
    """A MockTransport handler answering from a script, one entry per request, and counting."""

    def __init__(self, *answers: httpx.Response | type[Exception] | Callable[[], Any]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer("scripted failure", request=request)  # type: ignore[call-arg]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer())


def ok(body: Any = CAPSULE) -> httpx.Response:
    return httpx.Response(200, json=body)


def status(code: int, **headers: str) -> httpx.Response:
    """A JSON error answer; ``retry_after="3"`` becomes the ``Retry-After: 3`` header."""
    named = {k.replace("_", "-"): v for k, v in headers.items()}
    return httpx.Response(code, json={"message": f"status {code}"}, headers=named)


RUN = {"id": "k1", "created": 1_700_000_000, "state": "initializing", "owner": "me"}


@pytest.mark.anyio
@pytest.mark.parametrize(
    "failure",
    [status(502), status(503), status(504), status(429), status(429, retry_after="1")],
)
async def test_reads_are_retried_until_they_succeed(failure: httpx.Response) -> None:
    script = Script(failure, failure, ok())
    async with mock_client(script) as client:
        capsule = await client.capsules.get("c")
    assert capsule.id == "c"
    assert len(script.requests) == 3


@pytest.mark.anyio
@pytest.mark.parametrize("exc", [httpx.ReadTimeout, httpx.RemoteProtocolError, httpx.ConnectError])
async def test_reads_are_retried_after_transport_failures(exc: type[Exception]) -> None:
    script = Script(exc, ok())
    async with mock_client(script) as client:
        assert (await client.capsules.get("c")).id == "c"
    assert len(script.requests) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "error"), [(500, co.ServerError), (404, co.NotFoundError), (400, co.BadRequestError)]
)
async def test_other_errors_are_not_retried(code: int, error: type[Exception]) -> None:
    script = Script(status(code))
    async with mock_client(script) as client:
        with pytest.raises(error):
            await client.capsules.get("c")
    assert len(script.requests) == 1


@pytest.mark.anyio
async def test_attempts_run_out() -> None:
    script = Script(status(503))
    async with mock_client(script, retry=co.RetryPolicy(attempts=4)) as client:
        with pytest.raises(co.ServerError) as info:
            await client.capsules.get("c")
    assert info.value.status_code == 503
    assert len(script.requests) == 4


@pytest.mark.anyio
async def test_a_retry_after_past_the_cap_is_not_waited_out() -> None:
    script = Script(status(429, retry_after="600"), ok())
    async with mock_client(script) as client:
        with pytest.raises(co.RateLimitError) as info:
            await client.capsules.get("c")
    assert info.value.retry_after == 600
    assert len(script.requests) == 1


@pytest.mark.anyio
async def test_no_retry_starts_that_would_end_past_the_time_budget() -> None:
    script = Script(status(429, retry_after="5"), ok())
    async with mock_client(script, retry=co.RetryPolicy(timeout=2)) as client:
        with pytest.raises(co.RateLimitError):
            await client.capsules.get("c")
    assert len(script.requests) == 1


@pytest.mark.anyio
async def test_retry_policy_none_and_with_options() -> None:
    script = Script(status(503), ok())
    async with mock_client(script) as client:
        once = client.with_options(retry=co.RetryPolicy.none())
        with pytest.raises(co.ServerError):
            await once.capsules.get("c")
        assert once.retry.attempts == 1
        assert client.retry == co.RetryPolicy()  # the original keeps its policy
        assert (await client.capsules.get("c")).id == "c"
        await once.aclose()  # closes nothing: the pool is the original's
        assert (await client.capsules.get("c")).id == "c"
    assert len(script.requests) == 3
    with pytest.raises(co.ClientClosedError):
        await once.capsules.get("c")


# --- run requests: never resent once they may have arrived ---------------------------------------


@pytest.mark.anyio
async def test_a_rate_limited_run_is_retried() -> None:
    script = Script(status(429, retry_after="0"), ok(RUN))
    async with mock_client(script) as client:
        run = await client.computations.run(capsule_id="c")
    assert run.id == "k1"
    assert [r.method for r in script.requests] == ["POST", "POST"]


@pytest.mark.anyio
@pytest.mark.usefixtures("real_backoff")  # the hold is real time: testing mode would skip it
async def test_a_launch_held_past_its_budget_is_a_timeout_that_sent_nothing() -> None:
    script = Script(status(429, retry_after="1"), ok(RUN))
    async with mock_client(script) as client:
        hurried = client.with_options(retry=co.RetryPolicy(timeout=0.3))
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(lambda: client.computations.run(capsule_id="c"))
            await anyio.sleep(0.1)  # the first launch met the 429: every launch is held
            assert len(script.requests) == 1
            with pytest.raises(co.APITimeoutError, match=r"retry budget of 0\.3 s") as info:
                await hurried.computations.run(capsule_id="c")
    assert not isinstance(info.value, co.LaunchUncertainError)
    assert info.value.maybe_sent is False
    assert len(script.requests) == 2  # the held launch's own retry, not the hurried one


@pytest.mark.anyio
async def test_a_run_that_never_reached_the_server_is_retried() -> None:
    script = Script(httpx.ConnectError, ok(RUN))
    async with mock_client(script) as client:
        assert (await client.computations.run(capsule_id="c")).id == "k1"
    assert len(script.requests) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("answer", "cause"),
    [
        (status(502), co.ServerError),
        (status(503), co.ServerError),
        (status(504), co.ServerError),
        (status(500), co.ServerError),
        (httpx.ReadTimeout, co.APITimeoutError),
        (httpx.RemoteProtocolError, co.APIConnectionError),
        (httpx.ConnectTimeout, co.APITimeoutError),  # without wire evidence, assume it was sent
        (httpx.Response(200, content=b'{"id": "k1", "crea'), co.ResponseValidationError),
    ],
)
async def test_an_uncertain_run_is_never_resent(answer: Any, cause: type[Exception]) -> None:
    script = Script(answer, ok(RUN))
    before = time.time()
    async with mock_client(script) as client:
        with pytest.raises(co.LaunchUncertainError) as info:
            await client.computations.run(capsule_id="c", version=2)
    assert len(script.requests) == 1
    assert isinstance(info.value.__cause__, cause)
    assert info.value.request.method == "POST"
    assert info.value.request.content == b'{"capsule_id":"c","version":2}'
    assert before <= info.value.sent_at <= time.time()
    assert "on_uncertain='reconcile'" in str(info.value)


@pytest.mark.anyio
async def test_a_refused_run_is_a_plain_error() -> None:
    script = Script(status(400))
    async with mock_client(script) as client:
        with pytest.raises(co.BadRequestError):
            await client.computations.run(capsule_id="c")
    assert len(script.requests) == 1


@pytest.mark.anyio
async def test_stopping_is_not_resent_once_it_may_have_arrived() -> None:
    script = Script(httpx.ReadTimeout, httpx.Response(204))
    async with mock_client(script) as client:
        with pytest.raises(co.APITimeoutError):
            await client.computations.delete("k1")
        assert len(script.requests) == 1
        script.answers = [httpx.ConnectError, httpx.Response(204)]
        await client.computations.delete("k1")  # never sent the first time: safe to resend
    assert len(script.requests) == 3


# --- judging by the wire, not by the exception's name --------------------------------------------


class MisreportingTransport(httpx.AsyncBaseTransport):
    """Reports httpcore trace events, then fails with an exception whose name says otherwise."""

    def __init__(self, events: list[str], exc: type[httpx.TransportError]) -> None:
        self.events = events
        self.exc = exc
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        trace = request.extensions["trace"]
        for event in self.events:
            await trace(event, {})
        raise self.exc("failed", request=request)


@pytest.mark.anyio
async def test_a_connect_timeout_after_sending_is_uncertain() -> None:
    transport = MisreportingTransport(
        ["connection.connect_tcp.complete", "http11.send_request_headers.started"],
        httpx.ConnectTimeout,
    )
    client = co.AsyncCodeOcean(domain="acme.codeocean.com", token="cop_x", transport=transport)
    with pytest.raises(co.LaunchUncertainError) as info:
        await client.computations.run(capsule_id="c")
    assert transport.calls == 1
    assert info.value.__cause__.maybe_sent is True  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_a_read_error_before_sending_is_safe_to_resend() -> None:
    transport = MisreportingTransport(["connection.connect_tcp.started"], httpx.ReadError)
    client = co.AsyncCodeOcean(
        domain="acme.codeocean.com",
        token="cop_x",
        transport=transport,
        retry=co.RetryPolicy(attempts=3),
    )
    with pytest.raises(co.APIConnectionError) as info:
        await client.computations.run(capsule_id="c")
    assert not isinstance(info.value, co.LaunchUncertainError)
    assert info.value.maybe_sent is False
    assert transport.calls == 3


@pytest.mark.anyio
async def test_a_refused_connection_over_a_real_socket_is_never_sent() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()  # nothing listens there now
    async with co.AsyncCodeOcean(
        domain=f"http://127.0.0.1:{port}", token="cop_x", retry=co.RetryPolicy(attempts=2)
    ) as client:
        with pytest.raises(co.APIConnectionError) as info:
            await client.computations.run(capsule_id="c")
    assert info.value.maybe_sent is False
    assert not isinstance(info.value, co.LaunchUncertainError)


# --- logging -------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_requests_and_retries_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="codeocean_async")
    script = Script(status(429, retry_after="3"), ok())
    async with mock_client(script) as client:
        await client.capsules.get("c")
    records = [r for r in caplog.records if r.name == "codeocean_async"]
    retry = [r for r in records if r.levelno == logging.WARNING]
    assert len(retry) == 1
    assert (
        "retrying GET /api/v1/capsules/c in 3.00 s (attempt 1 of 5 failed" in retry[0].getMessage()
    )
    requests = [r.getMessage() for r in records if r.levelno == logging.DEBUG]
    assert any("GET /api/v1/capsules/c -> 429" in m and "(attempt 1)" in m for m in requests)
    assert any("GET /api/v1/capsules/c -> 200" in m and "(attempt 2)" in m for m in requests)


# --- cancellation ---------------------------------------------------------------------------------


@pytest.fixture
def real_backoff() -> Iterator[None]:
    with stamina.set_testing(False):
        yield


@pytest.mark.anyio
@pytest.mark.usefixtures("real_backoff")
async def test_cancelling_during_a_retry_sleep_returns_promptly() -> None:
    script = Script(status(429, retry_after="30"), ok())
    async with mock_client(script) as client:
        tasks_before = {t.id for t in anyio.get_running_tasks()}
        with anyio.fail_after(20):  # a guard only: the retry would otherwise sleep 30 s
            with anyio.move_on_after(0.05) as scope:
                await client.capsules.get("c")
        assert scope.cancelled_caught
        assert {t.id for t in anyio.get_running_tasks()} == tasks_before
        assert len(script.requests) == 1
        script.answers = [ok()]
        assert (await client.capsules.get("c")).id == "c"  # still usable


@pytest.mark.anyio
async def test_cancelling_a_request_in_flight_returns_promptly() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(60)
        return ok()

    async with mock_client(hang) as client:
        with anyio.fail_after(30), anyio.move_on_after(0.05) as scope:
            await client.capsules.get("c")
    assert scope.cancelled_caught


# --- servers whose clock differs: Date headers -------------------------------------------------


def test_server_clock_offset() -> None:
    from codeocean_async._launch import server_clock_offset

    now = time.time()
    date = email.utils.formatdate(now - 3600, usegmt=True)
    assert server_clock_offset((date, now)) == pytest.approx(-3600, abs=1.5)
    assert server_clock_offset(None) == 0
    assert server_clock_offset(("garbage", now)) == 0


@pytest.mark.anyio
@pytest.mark.parametrize("hint", ["0", "-5"])
async def test_a_retry_after_of_zero_is_logged_with_the_floor(
    hint: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="codeocean_async")
    script = Script(status(429, retry_after=hint), status(503, retry_after=hint), ok())
    async with mock_client(script) as client:
        await client.capsules.get("c")
    retries = [r.getMessage() for r in caplog.records if r.name == "codeocean_async"]
    assert len(retries) == 2
    assert all(" in 0.50 s " in m for m in retries), retries


@pytest.mark.anyio
async def test_the_last_attempt_is_not_announced_as_a_retry(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="codeocean_async")
    script = Script(status(503))
    async with mock_client(script, retry=co.RetryPolicy(attempts=3)) as client:
        with pytest.raises(co.ServerError):
            await client.capsules.get("c")
    retries = [r.getMessage() for r in caplog.records if r.name == "codeocean_async"]
    assert len(retries) == 2
    assert "attempt 2 of 3 failed" in retries[-1]
