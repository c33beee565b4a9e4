"""Waits deliver what they have (issue 8, item 5): a finished run is handed over while a slow GET
for another is on its way, an error for one run never discards the others, a GET answered about
another computation is a validation error; and a wait timeout of 0 is one look (item 9)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import codeocean_async as co
from codeocean_async._scheduler import WaitScheduler
from codeocean_async.testing import FakeCodeOcean

from .test_cli import invoke

pytestmark = pytest.mark.anyio

QUICK = co.PollPolicy(initial=0.02, maximum=0.1, jitter=0)
GUARD = 20  # seconds: a guard against hangs only
LONG = (60.0, 60.0, 60.0)


@pytest.fixture
def fake() -> FakeCodeOcean:
    return FakeCodeOcean(base_time=int(time.time()))


@pytest.fixture
def capsule(fake: FakeCodeOcean) -> str:
    return str(fake.add_capsule(run_durations=(0.01, 0.01, 0.01))["id"])


Hook = Callable[[httpx.Request], Any]


class _Wire(httpx.AsyncBaseTransport):
    """The fake's transport; ``before(request)`` may be awaited first (to hang or slow a GET),
    and ``answer(request, response)`` may replace the answer."""

    def __init__(
        self,
        fake: FakeCodeOcean,
        before: Hook | None = None,
        answer: Callable[[httpx.Request, httpx.Response], httpx.Response] | None = None,
    ) -> None:
        self._inner = fake.transport()
        self._before = before
        self._answer = answer

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await anyio.lowlevel.checkpoint()
        if self._before is not None:
            await self._before(request)
        response = await self._inner.handle_async_request(request)
        if self._answer is not None:
            await response.aread()
            return self._answer(request, response)
        return response


def _client(fake: FakeCodeOcean, transport: httpx.AsyncBaseTransport) -> co.AsyncCodeOcean:
    return co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=transport,
        allow_insecure_http=True,
        poll=QUICK,
    )


def _on(cid: str, action: Callable[[], Any]) -> Hook:
    async def before(request: httpx.Request) -> None:
        if request.method == "GET" and request.url.path.endswith(f"/computations/{cid}"):
            await action()

    return before


async def test_a_finished_run_is_yielded_while_a_get_for_another_hangs(
    fake: FakeCodeOcean, capsule: str
) -> None:
    slow = str(fake.add_computation(capsule_id=capsule, durations=LONG)["id"])
    done = str(fake.add_computation(capsule_id=capsule)["id"])
    async with _client(fake, _Wire(fake, _on(slow, anyio.sleep_forever))) as client:
        with anyio.fail_after(GUARD):  # it used to wait for the hanging GET (up to 300 s)
            stream = client.computations.as_completed([slow, done], strategy="per_run")
            first = await anext(stream)
    assert first.id == done
    assert first.finished


async def test_completions_come_before_an_error_and_the_error_carries_the_others(
    fake: FakeCodeOcean, capsule: str
) -> None:
    done = str(fake.add_computation(capsule_id=capsule)["id"])
    gone = "c-deleted"  # the fake answers 404, after a while

    async def slowly() -> None:
        await anyio.sleep(0.2)

    async with _client(fake, _Wire(fake, _on(gone, slowly))) as client:
        with anyio.fail_after(GUARD):
            stream = client.computations.as_completed([gone, done], strategy="per_run")
            first = await anext(stream)  # it used to raise the 404 before handing this over
            assert first.id == done
            with pytest.raises(co.NotFoundError) as info:
                await anext(stream)
            with pytest.raises(StopAsyncIteration):
                await anext(stream)
    seen = info.value.computations  # type: ignore[attr-defined]
    assert seen[0] is None
    assert seen[1] is not None
    assert seen[1].id == done
    assert seen[1].finished


async def test_wait_all_goes_on_after_one_error_and_it_carries_every_final_state(
    fake: FakeCodeOcean, capsule: str
) -> None:
    ids = [str(fake.add_computation(capsule_id=capsule, durations=(0.05, 0.05, 0.05))["id"])]
    ids += ["c-deleted"]
    ids += [str(fake.add_computation(capsule_id=capsule, durations=(0.1, 0.1, 0.1))["id"])]
    async with _client(fake, _Wire(fake)) as client:
        with anyio.fail_after(GUARD), pytest.raises(co.NotFoundError) as info:
            await client.computations.wait_all(ids, strategy="per_run")
    finals = info.value.computations  # type: ignore[attr-defined]
    assert [c.id if c else None for c in finals] == [ids[0], None, ids[2]]
    assert finals[0].finished
    assert finals[2].finished


async def test_a_get_answered_about_another_computation_is_a_validation_error(
    fake: FakeCodeOcean, capsule: str
) -> None:
    asked = str(fake.add_computation(capsule_id=capsule)["id"])
    other = str(fake.add_computation(capsule_id=capsule)["id"])

    def swap(request: httpx.Request, response: httpx.Response) -> httpx.Response:
        if request.url.path.endswith(f"/computations/{asked}"):
            return httpx.Response(200, json={**response.json(), "id": other})
        return response

    async with _client(fake, _Wire(fake, answer=swap)) as client:
        with pytest.raises(co.ResponseValidationError, match="not the one asked for"):
            await client.computations.get(asked)
        finals = await client.computations.wait_all([other])
        assert finals[0].id == other
        with pytest.raises(co.ResponseValidationError):
            await client.computations.wait_all([asked, other], strategy="per_run")


# --- a wait timeout of 0: one look ---------------------------------------------------------------


async def test_zero_timeout_in_batches_is_one_look_each(fake: FakeCodeOcean) -> None:
    long_capsule = str(fake.add_capsule(run_durations=LONG)["id"])
    finished = str(fake.add_computation(capsule_id=long_capsule)["id"])
    async with _client(fake, _Wire(fake)) as client:
        # A finished run is returned (it used to time out without a look).
        [final] = await client.computations.wait_all([finished], timeout=0)
        assert final.finished
        fake.reset_requests()
        specs = [{"capsule_id": long_capsule, "parameters": [str(i)]} for i in range(3)]
        outcomes = await client.computations.run_and_wait_many(specs, timeout=0)
    assert all(isinstance(o.error, co.WaitTimeoutError) for o in outcomes)
    assert all(o.computation is not None for o in outcomes)
    gets = [r for r in fake.requests if r.method == "GET"]
    assert len(gets) == 3  # one look at each


async def test_cli_timeout_zero_is_one_look(
    fake: FakeCodeOcean, capsule: str, tmp_path: Path
) -> None:
    specs = tmp_path / "specs.jsonl"
    specs.write_text(f'{{"capsule_id": "{fake.add_capsule(run_durations=LONG)["id"]}"}}\n')
    running = str(fake.add_computation(capsule_id=capsule, durations=LONG)["id"])
    finished = str(fake.add_computation(capsule_id=capsule)["id"])
    async with _client(fake, fake.transport()) as client:
        r = await invoke(client, fake, "wait", running, "--timeout", "0")
        assert r.code == 4  # timed out after one look, not refused as bad usage
        assert "keeps running" in r.err
        r = await invoke(client, fake, "wait", finished, "--timeout", "0")
        assert r.code == 0
        r = await invoke(client, fake, "run-many", str(specs), "--wait", "--timeout", "0", "--json")
        assert r.code == 1  # accepted: the run was looked at once and had not finished
        assert "WaitTimeoutError" in r.out or "did not finish" in r.out


def _computation(cid: str, *, done: bool) -> co.Computation:
    state = co.ComputationState.COMPLETED if done else co.ComputationState.RUNNING
    end = co.ComputationEndStatus.SUCCEEDED if done else None
    return co.Computation(id=cid, created=1, state=state, end_status=end)


async def test_a_run_that_falls_due_while_a_slow_get_is_on_its_way_is_polled_and_handed_over() -> (
    None
):
    # Found in review: a poll that fell due while another run's GET was on its way waited for
    # that GET. Here A's GET answers only once B has been handed over: waiting would hang.
    b_reported = anyio.Event()
    b_polls = 0

    async def get(cid: str) -> co.Computation:
        nonlocal b_polls
        if cid == "A":
            await b_reported.wait()
            return _computation("A", done=True)
        b_polls += 1
        return _computation("B", done=b_polls >= 3)  # finishes on its third look

    scheduler = WaitScheduler(
        get=get,
        list_for=_no_listing,
        poll=co.PollPolicy(initial=0.01, maximum=0.01, jitter=0),
        max_requests_per_second=None,
        strategy="per_run",
        on_event=None,
    )
    scheduler.add("A", index=0)
    scheduler.add("B", index=1)
    scheduler.close()
    seen: list[str] = []
    with anyio.fail_after(GUARD):
        while len(seen) < 2:
            for done in await scheduler.next_done():
                assert done.computation is not None
                seen.append(done.computation.id)
                if done.computation.id == "B":
                    b_reported.set()
    assert seen == ["B", "A"]
    assert b_polls == 3


async def test_answers_on_their_way_when_a_wait_ends_are_not_thrown_away() -> None:
    # Found in review: every request still on its way when one wait ended was cut and sent again
    # at once: 100 finished runs cost about 2,200 GETs. Answers nearly there now land.
    sent = 0

    async def get(cid: str) -> co.Computation:
        nonlocal sent
        sent += 1
        await anyio.sleep(0.01 + (hash(cid) % 20) / 1000)
        return _computation(cid, done=True)

    scheduler = WaitScheduler(
        get=get,
        list_for=_no_listing,
        poll=co.PollPolicy(),
        max_requests_per_second=None,
        strategy="per_run",
        on_event=None,
    )
    ids = [f"c-{i}" for i in range(100)]
    for index, cid in enumerate(ids):
        scheduler.add(cid, index=index)
    scheduler.close()
    finished: list[str] = []
    with anyio.fail_after(GUARD):
        while batch := await scheduler.next_done():
            finished += [d.computation.id for d in batch if d.computation is not None]
    assert sorted(finished) == sorted(ids)
    assert sent < 2 * len(ids)  # each run asked about once, give or take a slow machine


async def _no_listing(parent: Any) -> list[co.Computation]:
    raise AssertionError("per_run waits list nothing")
