"""Waits at their edges: a last look before a deadline, cancelled steps, errors mid-batch."""

from __future__ import annotations

import anyio
import httpx
import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, ManualClock

pytestmark = pytest.mark.anyio

RARE = co.PollPolicy(initial=2.5, maximum=60, jitter=0)  # the next poll would miss the deadline


def _client(
    fake: FakeCodeOcean, transport: httpx.AsyncBaseTransport | None = None
) -> co.AsyncCodeOcean:
    return co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=transport or fake.transport(),
        allow_insecure_http=True,
    )


async def _finish_in(fake: FakeCodeOcean, seconds: float) -> None:
    await anyio.sleep(seconds)
    clock = fake.clock
    assert isinstance(clock, ManualClock)
    clock.advance(100)


async def test_a_wait_looks_once_more_before_its_deadline() -> None:
    fake = FakeCodeOcean(clock=ManualClock())
    capsule = fake.add_capsule(run_durations=(1, 1, 1))["id"]
    async with _client(fake) as client:
        run = await client.computations.run(capsule_id=capsule)
        async with anyio.create_task_group() as tg:
            tg.start_soon(_finish_in, fake, 0.5)  # finishes well before the 3 s deadline
            done = await client.computations.wait_for_completion(run.id, timeout=3, poll=RARE)
    assert done.outcome is co.Outcome.SUCCEEDED


async def test_many_waits_look_once_more_before_their_deadline() -> None:
    fake = FakeCodeOcean(clock=ManualClock())
    capsule = fake.add_capsule(run_durations=(1, 1, 1))["id"]
    async with _client(fake) as client:
        runs = [await client.computations.run(capsule_id=capsule) for _ in range(2)]
        for strategy in ("per_run", "list"):
            async with anyio.create_task_group() as tg:
                tg.start_soon(_finish_in, fake, 0.5)
                done = await client.computations.wait_all(
                    [r.id for r in runs],
                    timeout=3,
                    poll=RARE,
                    strategy=strategy,
                    capsule_id=capsule,
                )
            assert [c.outcome for c in done] == [co.Outcome.SUCCEEDED] * 2, strategy


class Slow(httpx.AsyncBaseTransport):
    """Every answer takes 0.2 s."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await anyio.sleep(0.2)
        return await self.inner.handle_async_request(request)


async def test_a_completion_stream_survives_cancelled_steps() -> None:
    fake = FakeCodeOcean()
    capsule = fake.add_capsule()["id"]
    ids = [
        fake.add_computation(capsule_id=capsule, durations=(0.3, 0.3, 0.3))["id"] for _ in range(2)
    ]
    async with _client(fake, Slow(fake.transport())) as client:
        stream = client.computations.as_completed(ids, strategy="per_run", poll=RARE)
        got: list[str] = []
        beats = 0
        with anyio.fail_after(20):  # a guard against the hang this test is about
            while len(got) < 2:
                # Wait at most 0.5 s for the next completion, then do something else: the
                # requests a cancelled step had popped or started stay scheduled.
                with anyio.move_on_after(0.5):
                    got.append((await stream.__anext__()).id)
                    continue
                beats += 1
    assert sorted(got) == sorted(ids)
    assert beats >= 1


async def test_an_error_mid_batch_loses_no_other_completion() -> None:
    fake = FakeCodeOcean()
    capsule = fake.add_capsule()["id"]
    finished = [fake.add_computation(capsule_id=capsule)["id"] for _ in range(3)]
    async with _client(fake) as client:
        stream = client.computations.as_completed(["no-such-run", *finished], strategy="per_run")
        seen: list[str] = []
        errors = 0
        while True:
            try:
                seen.append((await stream.__anext__()).id)
            except StopAsyncIteration:
                break
            except co.NotFoundError:
                errors += 1
    assert errors == 1
    assert sorted(seen) == sorted(finished)
    assert [c.id if c else None for c in stream.last_seen] == [None, *finished]
