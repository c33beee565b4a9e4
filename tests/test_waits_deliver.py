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
