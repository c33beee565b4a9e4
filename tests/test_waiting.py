"""wait_for_completion and watch: every state in order, deadlines, cancellation, outcomes."""

from __future__ import annotations

import logging
import math
from typing import Any

import anyio
import anyio.lowlevel
import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, ManualClock

pytestmark = pytest.mark.anyio

PHASE = 10.0  # seconds of fake time per phase


@pytest.fixture
def capsule(codeocean_fake: FakeCodeOcean) -> str:
    return str(codeocean_fake.add_capsule(run_durations=(PHASE, PHASE, PHASE))["id"])


def _advance_on_update(fake: FakeCodeOcean, seen: list[co.Computation]) -> Any:
    """An on_update that records each state and then moves the fake one phase on."""
    clock = fake.clock
    assert isinstance(clock, ManualClock)

    def on_update(computation: co.Computation) -> None:
        seen.append(computation)
        clock.advance(PHASE)

    return on_update


@pytest.mark.parametrize(
    ("planned", "outcome", "states"),
    [
        ("succeeded", co.Outcome.SUCCEEDED, ["initializing", "running", "finalizing", "completed"]),
        ("failed", co.Outcome.FAILED, ["initializing", "running", "finalizing", "completed"]),
        ("stopped", co.Outcome.STOPPED, ["initializing", "running", "finalizing", "completed"]),
        ("failed_start", co.Outcome.FAILED_START, ["initializing", "completed"]),
        ("state_failed", co.Outcome.FAILED, ["initializing", "running", "finalizing", "failed"]),
    ],
)
async def test_wait_follows_every_state_in_order(
    client: co.AsyncCodeOcean,
    codeocean_fake: FakeCodeOcean,
    capsule: str,
    planned: str,
    outcome: co.Outcome,
    states: list[str],
) -> None:
    codeocean_fake.plan_next_run(outcome=planned)
    run = await client.computations.run(capsule_id=capsule)
    seen: list[co.Computation] = []
    final = await client.computations.wait_for_completion(
        run, on_update=_advance_on_update(codeocean_fake, seen)
    )
    assert [str(c.state) for c in seen] == states
    assert seen[0] is run  # the Computation passed in is the first state seen, no request for it
    assert final == seen[-1]
    assert final.outcome is outcome
    assert final.finished


@pytest.mark.parametrize("planned", ["failed", "stopped", "failed_start", "state_failed"])
async def test_raise_on_failure_raises_for_every_outcome_but_success(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, planned: str
) -> None:
    capsule = codeocean_fake.add_capsule(run_outcome=planned, run_durations=(0, 0, 0))["id"]
    run = await client.computations.run(capsule_id=capsule)
    with pytest.raises(co.ComputationFailedError) as info:
        await client.computations.wait_for_completion(run, raise_on_failure=True)
    assert info.value.computation.id == run.id
    assert info.value.computation.finished
    assert info.value.outcome is info.value.computation.outcome
    assert info.value.outcome is not co.Outcome.SUCCEEDED
    assert run.id in str(info.value)


async def test_raise_on_failure_returns_a_success(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(0, 0, 0))["id"]
    run = await client.computations.run(capsule_id=capsule)
    final = await client.computations.wait_for_completion(run.id, raise_on_failure=True)
    assert final.outcome is co.Outcome.SUCCEEDED


async def test_waiting_by_id_fetches_at_once(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    made = codeocean_fake.add_computation(capsule_id=capsule, outcome="failed")
    final = await client.computations.wait_for_completion(made["id"])
    assert final.outcome is co.Outcome.FAILED
    assert [r.method for r in codeocean_fake.requests] == ["GET"]


async def test_a_finished_computation_returns_without_a_request(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    made = codeocean_fake.add_computation(capsule_id=capsule)
    done = await client.computations.get(made["id"])
    codeocean_fake.reset_requests()
    assert await client.computations.wait_for_completion(done) is done
    assert codeocean_fake.requests == []


async def test_async_on_update_is_awaited(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    seen: list[str] = []
    clock = codeocean_fake.clock
    assert isinstance(clock, ManualClock)

    async def on_update(c: co.Computation) -> None:
        await anyio.lowlevel.checkpoint()
        seen.append(str(c.state))
        clock.advance(PHASE)

    await client.computations.wait_for_completion(run, on_update=on_update)
    assert seen == ["initializing", "running", "finalizing", "completed"]


async def test_deadline_raises_wait_timeout_with_the_last_state_seen(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    codeocean_fake.clock.advance(PHASE)  # type: ignore[attr-defined]
    with pytest.raises(co.WaitTimeoutError) as info:
        await client.computations.wait_for_completion(run, timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    assert info.value.computation is not None
    assert info.value.computation.state is co.ComputationState.RUNNING
    assert "running" in str(info.value)
    # The run was left alone: the deadline is the caller's, not the computation's.
    assert codeocean_fake.computations[run.id]["state"] == "running"


async def test_deadline_cuts_a_long_poll_interval_short(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    hourly = co.PollPolicy(initial=3600, maximum=3600)
    with anyio.fail_after(30):  # a guard only: without the fix this would sleep an hour
        with pytest.raises(co.WaitTimeoutError):
            await client.computations.wait_for_completion(run, timeout=0.05, poll=hourly)


async def test_zero_timeout_is_one_look(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    # timeout=0 means what the CLI's --timeout 0 means: fetch once, return it if finished, else
    # WaitTimeoutError carrying that state (it used to give up without looking).
    with pytest.raises(co.NotFoundError):  # the look is made
        await client.computations.wait_for_completion("some-id", timeout=0)
    run = await client.computations.run(capsule_id=capsule)
    codeocean_fake.clock.advance(PHASE)  # type: ignore[attr-defined]
    codeocean_fake.reset_requests()
    for target in (run.id, run):
        with pytest.raises(co.WaitTimeoutError) as info:
            await client.computations.wait_for_completion(target, timeout=0)
        assert info.value.computation is not None
        assert info.value.computation.state is co.ComputationState.RUNNING
    assert len(codeocean_fake.requests) == 2  # one look each
    watch = client.computations.watch(run.id, timeout=0)
    assert (await anext(watch)).state is co.ComputationState.RUNNING
    with pytest.raises(co.WaitTimeoutError):
        await anext(watch)
    codeocean_fake.clock.advance(3 * PHASE)  # type: ignore[attr-defined]
    done = await client.computations.wait_for_completion(run, timeout=0)
    assert done.state is co.ComputationState.COMPLETED
    assert (await client.computations.wait_all([run.id], timeout=0))[0].finished


@pytest.mark.parametrize("timeout", [-1, math.nan, "10", True])
async def test_bad_timeouts_are_refused(client: co.AsyncCodeOcean, timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        await client.computations.wait_for_completion("some-id", timeout=timeout)


async def test_cancellation_from_outside_returns_promptly_and_leaves_no_task(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    tasks_before = {t.id for t in anyio.get_running_tasks()}
    hourly = co.PollPolicy(initial=3600, maximum=3600)
    with anyio.fail_after(30):  # a guard only: the wait would otherwise sleep for an hour
        with anyio.move_on_after(0.05) as scope:
            await client.computations.wait_for_completion(run, poll=hourly)
    assert scope.cancelled_caught
    with anyio.fail_after(30), pytest.raises(TimeoutError) as info:
        with anyio.fail_after(0.05):
            await client.computations.wait_for_completion(run, poll=hourly)
    assert not isinstance(info.value, co.WaitTimeoutError)  # the caller's deadline, not ours
    assert {t.id for t in anyio.get_running_tasks()} == tasks_before
    # The client is still usable after.
    assert (await client.computations.get(run.id)).id == run.id


async def test_a_cancelled_task_group_stops_the_wait(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    started = anyio.Event()

    async def waiter() -> None:
        started.set()
        await client.computations.wait_for_completion(
            run, poll=co.PollPolicy(initial=3600, maximum=3600)
        )

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(waiter)
            await started.wait()
            await anyio.sleep(0.01)
            tg.cancel_scope.cancel()


async def test_errors_while_polling_propagate(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    await client.computations.delete(run.id)  # stopped
    await client.computations.delete(run.id)  # now removed
    with pytest.raises(co.NotFoundError):
        await client.computations.wait_for_completion(run.id)


async def test_watch_yields_each_change_once(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    clock = codeocean_fake.clock
    assert isinstance(clock, ManualClock)
    states: list[str] = []
    polls_per_state = 3
    async for computation in client.computations.watch(run):
        states.append(str(computation.state))
        if not computation.finished:
            # Several polls see the same state before the fake moves on: no repeats are yielded.
            for _ in range(polls_per_state):
                await anyio.sleep(0.002)
            clock.advance(PHASE)
    assert states == ["initializing", "running", "finalizing", "completed"]


async def test_watch_can_be_left_early(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    async for computation in client.computations.watch(run.id):
        assert computation.state is co.ComputationState.INITIALIZING
        break
    assert (await client.computations.get(run.id)).id == run.id


async def test_watch_times_out(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    run = await client.computations.run(capsule_id=capsule)
    seen: list[co.Computation] = []

    async def collect() -> None:
        async for computation in client.computations.watch(run, timeout=0.02):
            seen.append(computation)

    with pytest.raises(co.WaitTimeoutError):
        await collect()
    assert [c.state for c in seen] == [co.ComputationState.INITIALIZING]


def test_poll_policy_schedule() -> None:
    policy = co.PollPolicy(initial=0.5, maximum=60, multiplier=2, jitter=0)
    assert [policy.interval(n) for n in range(9)] == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]
    assert policy.interval(10_000) == 60
    jittered = co.PollPolicy(initial=10, maximum=10, jitter=0.2)
    values = {jittered.interval(0) for _ in range(50)}
    assert all(8 <= v <= 12 for v in values)
    assert len(values) > 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial": 0},
        {"initial": -1},
        {"initial": 5, "maximum": 1},
        {"multiplier": 0.5},
        {"jitter": 1},
        {"jitter": -0.1},
    ],
)
def test_poll_policy_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        co.PollPolicy(**kwargs)


async def test_each_state_change_is_logged_at_info(
    client: co.AsyncCodeOcean,
    codeocean_fake: FakeCodeOcean,
    capsule: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="codeocean_async")
    made = codeocean_fake.add_computation(capsule_id=capsule, durations=(PHASE, PHASE, PHASE))
    seen: list[co.Computation] = []
    await client.computations.wait_for_completion(
        made["id"], on_update=_advance_on_update(codeocean_fake, seen)
    )
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines == [
        f"computation {made['id']} is {state}"
        for state in ("initializing", "running", "finalizing", "completed")
    ]
