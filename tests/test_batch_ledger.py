"""A batch never loses its record (issue 8, item 3): whatever one launch, wait or callback raises,
every spec gets an outcome, every computation started is reported, and no ExceptionGroup reaches
the caller. A 401 stops the batch and fails every spec not sent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean

pytestmark = pytest.mark.anyio

QUICK = co.PollPolicy(initial=0.02, maximum=0.1, jitter=0)
GUARD = 30  # seconds: a guard against hangs only


@pytest.fixture
def fake() -> FakeCodeOcean:
    return FakeCodeOcean(base_time=int(time.time()))


@pytest.fixture
def capsule(fake: FakeCodeOcean) -> str:
    return str(fake.add_capsule(run_durations=(0.01, 0.01, 0.01))["id"])


Rewrite = Callable[[httpx.Request, int], httpx.Response | None]


class _Wire(httpx.AsyncBaseTransport):
    """The fake's transport, yielding on the way out as a network does. ``rewrite(request, n)``
    (n: this request's number among those of its method) may answer instead of the fake."""

    def __init__(self, fake: FakeCodeOcean, rewrite: Rewrite | None = None) -> None:
        self._inner = fake.transport()
        self._rewrite = rewrite
        self.counts: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await anyio.lowlevel.checkpoint()
        number = self.counts[request.method] = self.counts.get(request.method, 0) + 1
        response = await self._inner.handle_async_request(request)
        if self._rewrite is not None:
            await response.aread()
            replaced = self._rewrite(request, number)
            if replaced is not None:
                return replaced
        return response


def _client(
    fake: FakeCodeOcean, transport: httpx.AsyncBaseTransport, **kw: Any
) -> co.AsyncCodeOcean:
    kw.setdefault("token", fake.token)
    return co.AsyncCodeOcean(
        domain="http://codeocean.test",
        transport=transport,
        allow_insecure_http=True,
        poll=QUICK,
        **kw,
    )


def _specs(capsule: str, count: int) -> list[dict[str, Any]]:
    return [{"capsule_id": capsule, "parameters": [str(i)]} for i in range(count)]


def _posts(fake: FakeCodeOcean) -> int:
    return sum(1 for r in fake.requests if r.method == "POST")


def _bad_id_on_post(n: int) -> Rewrite:
    """The n-th run request is acted on, and answered with an ID that could not go into a URL."""

    def rewrite(request: httpx.Request, number: int) -> httpx.Response | None:
        if request.method != "POST" or number != n:
            return None
        body = {"id": "../x", "created": int(time.time()), "state": "initializing"}
        return httpx.Response(200, json=body)

    return rewrite


# --- a server ID that fails the ID check ---------------------------------------------------------


async def test_a_run_answered_with_an_id_unfit_for_a_url_is_reported_uncertain(
    fake: FakeCodeOcean, capsule: str
) -> None:
    async with _client(fake, _Wire(fake, _bad_id_on_post(2))) as client:
        with anyio.fail_after(GUARD):
            outcomes = await client.computations.run_many(_specs(capsule, 4), concurrency=2)
    assert len(outcomes) == 4
    bad = [o for o in outcomes if o.error is not None]
    assert len(bad) == 1
    assert bad[0].uncertain  # it started (a 2xx), but cannot be followed
    assert isinstance(bad[0].error, co.LaunchUncertainError)
    assert isinstance(bad[0].error.__cause__, co.ResponseValidationError)
    assert "$.id" in str(bad[0].error.__cause__)
    assert _posts(fake) == 4  # nothing resent


async def test_run_and_wait_many_with_an_unfit_server_id_gives_every_spec_an_outcome(
    fake: FakeCodeOcean, capsule: str
) -> None:
    async with _client(fake, _Wire(fake, _bad_id_on_post(3))) as client:
        with anyio.fail_after(GUARD):
            outcomes = await client.computations.run_and_wait_many(
                _specs(capsule, 5), concurrency=2
            )
    assert [o.index for o in outcomes] == list(range(5))
    assert sum(1 for o in outcomes if o.succeeded) == 4
    [bad] = [o for o in outcomes if not o.succeeded]
    assert isinstance(bad.error, co.LaunchUncertainError)
    assert bad.computation is None


# --- raw exceptions from below -------------------------------------------------------------------


class _Boom(Exception):
    pass


def _raising_pipeline(client: co.AsyncCodeOcean, method: str, on: int) -> None:
    """Make the ``on``-th ``method`` request raise a raw exception (not a CodeOceanError)."""
    http = client._http
    real = http.request
    seen = {"n": 0}

    async def request(m: str, path: str, **kwargs: Any) -> Any:
        if m == method:
            seen["n"] += 1
            if seen["n"] == on:
                raise _Boom("from below")
        return await real(m, path, **kwargs)

    http.request = request  # type: ignore[method-assign, assignment]


async def test_a_raw_exception_in_a_launch_is_recorded_as_uncertain(
    fake: FakeCodeOcean, capsule: str
) -> None:
    async with _client(fake, _Wire(fake)) as client:
        _raising_pipeline(client, "POST", on=2)
        with anyio.fail_after(GUARD):
            outcomes = await client.computations.run_many(_specs(capsule, 4), concurrency=2)
    assert len(outcomes) == 4
    [bad] = [o for o in outcomes if not o.ok]
    assert bad.uncertain  # it may have been sent: say so, never guess
    assert isinstance(bad.error, co.LaunchUncertainError)
    assert isinstance(bad.error.__cause__, _Boom)


async def test_a_raw_exception_in_a_wait_is_recorded_for_that_run(
    fake: FakeCodeOcean, capsule: str
) -> None:
    async with _client(fake, _Wire(fake)) as client:
        _raising_pipeline(client, "GET", on=1)
        with anyio.fail_after(GUARD):
            outcomes = await client.computations.run_and_wait_many(
                _specs(capsule, 4), concurrency=4, strategy="per_run"
            )
    assert len(outcomes) == 4
    assert sum(1 for o in outcomes if o.succeeded) == 3
    [bad] = [o for o in outcomes if not o.succeeded]
    assert isinstance(bad.error, co.CodeOceanError)
    assert isinstance(bad.error.__cause__, _Boom)
    assert bad.attempts  # the computation that started is named


async def test_wait_all_raises_one_error_not_a_group(fake: FakeCodeOcean, capsule: str) -> None:
    ids = [str(fake.add_computation(capsule_id=capsule)["id"]) for _ in range(3)]
    async with _client(fake, _Wire(fake)) as client:
        _raising_pipeline(client, "GET", on=2)
        with anyio.fail_after(GUARD), pytest.raises(co.CodeOceanError) as info:
            await client.computations.wait_all(ids)
    assert isinstance(info.value.__cause__, _Boom)
    finals = info.value.computations  # type: ignore[attr-defined]
    assert sum(1 for c in finals if c is not None and c.finished) == 2


# --- specs checked whole before the first launch ------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"parameters": [["a"]]}, r"spec 2: parameters\[0\] must be a string, not list"),
        ({"parameters": [1.5]}, r"spec 2: parameters\[0\] must be a string"),
        ({"named_parameters": {"n": 3}}, r"spec 2: named_parameters\['n'\]: value must be"),
        ({"named_parameters": [{"param_name": "n", "value": 3}]}, r"named_parameters\[0\]\.value"),
        ({"data_assets": [7]}, r"spec 2: data_assets\[0\] must be \"ID\""),
        ({"data_assets": [{"id": 7}]}, r"data_assets\[0\]\.id must be a string"),
        ({"version": 2.0}, r"spec 2: version must be a whole number"),
        ({"version": float("nan")}, r"spec 2: version must be a whole number"),
        ({"nextflow_profile": 1}, r"spec 2: nextflow_profile must be a string"),
        ({"resume_run_id": "a/b"}, r"spec 2: resume_run_id contains"),
    ],
)
@pytest.mark.parametrize("method", ["run_many", "run_and_wait_many"])
async def test_a_spec_with_a_wrong_element_type_is_refused_before_anything_is_sent(
    fake: FakeCodeOcean, capsule: str, bad: dict[str, Any], message: str, method: str
) -> None:
    specs = [*_specs(capsule, 2), {"capsule_id": capsule, **bad}, *_specs(capsule, 1)]
    async with _client(fake, _Wire(fake)) as client:
        with pytest.raises((TypeError, ValueError), match=message):
            await getattr(client.computations, method)(specs)
    assert fake.requests == []


# --- the caller's callback -----------------------------------------------------------------------


class _CallbackBug(Exception):
    pass


def _raise_on(kind: type[Any], nth: int) -> tuple[list[co.Event], Callable[[co.Event], None]]:
    events: list[co.Event] = []

    def on_event(event: co.Event) -> None:
        events.append(event)
        if sum(1 for e in events if isinstance(e, kind)) == nth:
            raise _CallbackBug("a bug in the caller's callback")

    return events, on_event


async def test_run_many_re_raises_a_callback_error_itself_with_the_ledger(
    fake: FakeCodeOcean, capsule: str
) -> None:
    events, on_event = _raise_on(co.Launched, 3)
    async with _client(fake, _Wire(fake)) as client:
        with anyio.fail_after(GUARD), pytest.raises(_CallbackBug) as info:
            await client.computations.run_many(
                _specs(capsule, 20), concurrency=3, on_event=on_event
            )
    outcomes: list[co.LaunchOutcome] = info.value.outcomes  # type: ignore[attr-defined]
    assert [o.index for o in outcomes] == list(range(20))
    reported = {o.computation.id for o in outcomes if o.computation is not None}
    assert reported == set(fake.created_computations)  # every computation started is in it
    assert _posts(fake) == sum(1 for o in outcomes if o.sent)
    assert _posts(fake) < 20  # it stopped launching
    assert any("on_event raised during run_many" in n for n in getattr(info.value, "__notes__", ()))
    assert sum(1 for e in events if isinstance(e, co.Launched)) == 3  # not called again


async def test_run_and_wait_many_re_raises_a_callback_error_with_every_run(
    fake: FakeCodeOcean, capsule: str
) -> None:
    _, on_event = _raise_on(co.StateChanged, 2)
    async with _client(fake, _Wire(fake)) as client:
        with anyio.fail_after(GUARD), pytest.raises(_CallbackBug) as info:
            await client.computations.run_and_wait_many(
                _specs(capsule, 10), concurrency=2, on_event=on_event
            )
    outcomes: list[co.RunOutcome] = info.value.outcomes  # type: ignore[attr-defined]
    assert len(outcomes) == 10
    attempted = {cid for o in outcomes for cid in o.attempts}
    assert attempted == set(fake.created_computations)
    assert all(o.computation is not None for o in outcomes if o.attempts)


async def test_as_completed_re_raises_a_callback_error_with_the_states_seen(
    fake: FakeCodeOcean, capsule: str
) -> None:
    ids = [str(fake.add_computation(capsule_id=capsule)["id"]) for _ in range(3)]
    _, on_event = _raise_on(co.Finished, 1)
    async with _client(fake, _Wire(fake)) as client:
        with anyio.fail_after(GUARD), pytest.raises(_CallbackBug) as info:
            await client.computations.wait_all(ids, on_event=on_event, strategy="per_run")
    seen = info.value.computations  # type: ignore[attr-defined]
    assert len(seen) == 3


# --- a 401 stops the batch -----------------------------------------------------------------------


@pytest.mark.parametrize("fail_fast", [False, True])
async def test_a_wrong_token_fails_every_spec_and_stops_launching(
    fake: FakeCodeOcean, capsule: str, fail_fast: bool
) -> None:
    async with _client(fake, _Wire(fake), token="cop_wrong") as client:
        with anyio.fail_after(GUARD):
            outcomes = await client.computations.run_many(
                _specs(capsule, 9), concurrency=2, fail_fast=fail_fast
            )
            waited = await client.computations.run_and_wait_many(_specs(capsule, 9), concurrency=2)
    assert all(isinstance(o.error, co.AuthenticationError) for o in outcomes)
    assert not any(o.uncertain for o in outcomes)
    assert sum(1 for o in outcomes if o.sent) <= 2  # only those already on their way
    assert all(isinstance(o.error, co.AuthenticationError) for o in waited)
    assert all(o.computation is None and o.attempts == () for o in waited)
    assert _posts(fake) <= 4
    assert fake.created_computations == []


async def test_a_401_mid_batch_stops_there_and_reports_what_started(
    fake: FakeCodeOcean, capsule: str
) -> None:
    def revoked_after_three(request: httpx.Request, number: int) -> httpx.Response | None:
        if request.method == "POST" and number > 3:
            return httpx.Response(401, json={"message": "token revoked"})
        return None

    async with _client(fake, _Wire(fake, revoked_after_three)) as client:
        with anyio.fail_after(GUARD):
            outcomes = await client.computations.run_and_wait_many(
                _specs(capsule, 12), concurrency=2
            )
    started = [o for o in outcomes if o.attempts]
    assert len(started) >= 3
    assert {cid for o in started for cid in o.attempts} <= set(fake.created_computations)
    assert all(o.succeeded for o in started if not isinstance(o.error, co.AuthenticationError))
    refused = [o for o in outcomes if isinstance(o.error, co.AuthenticationError)]
    assert len(refused) + len(started) == 12
    assert sum(1 for r in fake.requests if r.method == "POST") <= 3 + 2 + 1


def test_a_json_round_trip_of_the_spec_forms() -> None:
    spec = co.RunParams(
        capsule_id="c",
        data_assets=["a1", "a2:in", {"id": "a3", "mount": "m"}],
        named_parameters={"k": "v"},
    )
    assert co.from_json(co.RunParams, co.to_json(spec)) == spec
    assert json.loads(co.to_json(spec))["data_assets"][1] == {"id": "a2", "mount": "in"}
