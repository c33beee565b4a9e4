"""Independent waits on one client share one poll loop: listings per tick, not a GET per wait.

Each test runs many tasks that each await ``wait_for_completion`` (or iterate ``watch``) on the
same client, against the fake on a ManualClock (runs move only when the test says), and counts
what the fake received.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable

import anyio
import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, Fault, ManualClock

pytestmark = pytest.mark.anyio

GUARD = 30  # seconds: a guard against a hang, not a speed claim
RATE = 20  # the shared loop's request-rate cap (DEFAULT_MAX_REQUESTS_PER_SECOND)
SLOW = co.PollPolicy(initial=3600, maximum=3600, jitter=0)


def _kinds(fake: FakeCodeOcean) -> collections.Counter[str]:
    return collections.Counter(
        "list" if r.path.endswith("/computations") else "get"
        for r in fake.requests
        if r.method == "GET"
    )


def _advance(fake: FakeCodeOcean, seconds: float = 100) -> None:
    clock = fake.clock
    assert isinstance(clock, ManualClock)
    clock.advance(seconds)


async def _launch(client: co.AsyncCodeOcean, capsule: str, count: int) -> list[co.Computation]:
    outcomes = await client.computations.run_many(
        [{"capsule_id": capsule, "parameters": [str(i)]} for i in range(count)], concurrency=32
    )
    return [o.computation for o in outcomes if o.computation is not None]


async def _quiet_after(fake: FakeCodeOcean, client: co.AsyncCodeOcean) -> None:
    """Nothing is polled once no one waits, and the loop holds no wait."""
    fake.reset_requests()
    await anyio.sleep(0.15)
    assert fake.requests == []
    assert client.computations._bound.waits.waiting == 0


async def test_many_independent_waits_send_a_listing_per_tick_and_no_get(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 1000)
    codeocean_fake.reset_requests()
    finals: dict[str, co.Computation] = {}

    async def one(run: co.Computation) -> None:
        finals[run.id] = await client.computations.wait_for_completion(run)

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(one, run)
            while not _kinds(codeocean_fake)["list"]:  # noqa: ASYNC110 - the fake has no event
                await anyio.sleep(0.01)
            before, started = _kinds(codeocean_fake)["list"], anyio.current_time()
            await anyio.sleep(0.5)  # the runs stay initializing: the loop polls at its pace
            kinds = _kinds(codeocean_fake)
            elapsed = anyio.current_time() - started
            _advance(codeocean_fake)
    assert kinds["get"] == 0  # 1,000 waits, and not one GET
    # A listing per tick (FAST_POLL asks for hundreds), paced by the rate cap.
    assert 1 <= kinds["list"] - before <= elapsed * RATE + 2
    assert len(finals) == 1000
    assert all(f.outcome is co.Outcome.SUCCEEDED for f in finals.values())
    assert _kinds(codeocean_fake)["get"] == 0
    await _quiet_after(codeocean_fake, client)


async def test_each_wait_keeps_its_own_deadline_and_outcome_handling(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1), run_outcome="failed")["id"]
    runs = await _launch(client, capsule, 6)
    results: dict[int, object] = {}

    async def one(i: int, timeout: float | None, raise_on_failure: bool) -> None:
        try:
            results[i] = await client.computations.wait_for_completion(
                runs[i], timeout=timeout, raise_on_failure=raise_on_failure
            )
        except co.CodeOceanError as exc:
            results[i] = exc

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for i in range(6):
                tg.start_soon(one, i, 0.1 if i < 2 else None, i == 5)
            await anyio.sleep(0.3)  # the short deadlines pass; the others wait on
            assert set(results) == {0, 1}
            _advance(codeocean_fake)
    for i in (0, 1):
        error = results[i]
        assert isinstance(error, co.WaitTimeoutError)
        assert error.computation is not None
        assert error.computation.state is co.ComputationState.INITIALIZING
        assert "within 0.1 s" in str(error)
    for i in (2, 3, 4):
        final = results[i]
        assert isinstance(final, co.Computation)
        assert final.outcome is co.Outcome.FAILED
    assert isinstance(results[5], co.ComputationFailedError)
    await _quiet_after(codeocean_fake, client)


async def test_a_waiter_asking_for_faster_polling_gets_it(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 5)
    codeocean_fake.reset_requests()
    finals: list[co.Computation] = []

    async def one(run: co.Computation, poll: co.PollPolicy) -> None:
        finals.append(await client.computations.wait_for_completion(run, poll=poll))

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for run in runs[:4]:
                tg.start_soon(one, run, SLOW)
            await anyio.sleep(0.2)
            assert codeocean_fake.requests == []  # hourly waits: the first look is an hour off
            _advance(codeocean_fake)
            tg.start_soon(one, runs[4], co.PollPolicy(initial=0.01, maximum=0.01))
            # The eager wait's run shares the capsule's listing: every wait finishes now.
    assert len(finals) == 5
    assert _kinds(codeocean_fake) == {"list": 1}


async def test_cancelling_one_wait_or_the_loop_runner_leaves_the_others_finishing(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 8)
    hub = client.computations._bound.waits
    finals: dict[int, co.Computation] = {}
    scopes = [anyio.CancelScope() for _ in runs]

    async def one(i: int) -> None:
        with scopes[i]:
            finals[i] = await client.computations.wait_for_completion(runs[i])

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for i in range(len(runs)):
                tg.start_soon(one, i)
            await anyio.sleep(0.1)
            runner = hub._runner
            assert runner is not None
            scopes[[r.id for r in runs].index(runner.id)].cancel()  # the loop's runner
            scopes[5].cancel()
            await anyio.sleep(0.1)
            assert hub._runner is not None  # handed over, and the loop goes on
            assert hub._runner is not runner
            codeocean_fake.reset_requests()
            await anyio.sleep(0.2)
            assert _kinds(codeocean_fake)["list"] >= 1
            _advance(codeocean_fake)
    assert len(finals) == len(runs) - 2
    assert all(f.finished for f in finals.values())
    await _quiet_after(codeocean_fake, client)


async def test_nothing_polls_once_every_wait_is_cancelled(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 10)
    tasks_before = {t.id for t in anyio.get_running_tasks()}
    with anyio.fail_after(GUARD), anyio.move_on_after(0.2):
        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(client.computations.wait_for_completion, run)
    assert {t.id for t in anyio.get_running_tasks()} == tasks_before
    await _quiet_after(codeocean_fake, client)


async def test_waits_join_while_a_listing_is_on_its_way(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 8)
    codeocean_fake.faults.script("GET", "/capsules/*/computations", Fault.slow(0.3))
    finals: list[co.Computation] = []

    async def one(run: co.Computation) -> None:
        finals.append(await client.computations.wait_for_completion(run))

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for run in runs[:4]:
                tg.start_soon(one, run)
            await anyio.sleep(0.1)  # the first listing is on its way (slow)
            assert _kinds(codeocean_fake) == {"list": 1}
            for run in runs[4:]:
                tg.start_soon(one, run)
            await anyio.sleep(0.05)
            _advance(codeocean_fake)
    assert len(finals) == 8
    assert _kinds(codeocean_fake)["get"] == 0


async def test_runs_of_several_capsules_are_listed_capsule_by_capsule(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsules = [codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"] for _ in range(3)]
    runs = [run for capsule in capsules for run in await _launch(client, capsule, 5)]
    codeocean_fake.reset_requests()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(client.computations.wait_for_completion, run)
            await anyio.sleep(0.3)
            _advance(codeocean_fake)
    listed = {r.path.split("/")[-2] for r in codeocean_fake.requests}
    assert listed == set(capsules)
    assert _kinds(codeocean_fake)["get"] == 0


async def test_runs_started_elsewhere_are_listed_with_their_capsule_or_fetched_one_by_one(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    made = [codeocean_fake.add_computation(capsule_id=capsule, durations=(1, 1, 1)) for _ in "abcd"]
    ids = [str(m["id"]) for m in made]

    async def one(cid: str, capsule_id: str | None) -> None:
        await client.computations.wait_for_completion(cid, capsule_id=capsule_id)

    async def wait_all(capsule_id: str | None = None) -> None:
        async with anyio.create_task_group() as tg:
            for cid in ids:
                tg.start_soon(one, cid, capsule_id)
            await anyio.sleep(0.3)
            _advance(codeocean_fake)

    with anyio.fail_after(GUARD):
        await wait_all(capsule_id=capsule)  # the capsule named: one listing per tick
        assert _kinds(codeocean_fake)["get"] == 0
        made = [
            codeocean_fake.add_computation(capsule_id=capsule, durations=(1, 1, 1)) for _ in ids
        ]
        ids[:] = [str(m["id"]) for m in made]
        codeocean_fake.reset_requests()
        await wait_all()  # no parent known: each run is fetched, on the shared schedule
    kinds = _kinds(codeocean_fake)
    assert kinds["list"] == 0
    assert 4 <= kinds["get"] <= 0.3 * RATE + 8  # rate-capped centrally, not 4 free loops


async def test_with_options_copies_share_the_loop(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 6)
    copies = [client, client.with_options(poll=SLOW), client.with_options(timeout=30)]
    assert len({id(c.computations._bound.waits) for c in copies}) == 1
    codeocean_fake.reset_requests()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for i, run in enumerate(runs):
                tg.start_soon(copies[i % 3].computations.wait_for_completion, run)
            await anyio.sleep(0.2)
            _advance(codeocean_fake)
    assert _kinds(codeocean_fake)["get"] == 0


async def test_an_error_for_one_run_reaches_only_its_waiter(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 4)
    codeocean_fake.faults.script("GET", "/capsules/*/computations", Fault.server_error(500))
    results: dict[str, object] = {}

    async def one(target: co.Computation | str) -> None:
        key = target if isinstance(target, str) else target.id
        try:
            results[key] = await client.computations.wait_for_completion(target)
        except co.CodeOceanError as exc:
            results[key] = exc

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(one, run)
            tg.start_soon(one, "no-such-run")
            await anyio.sleep(0.3)
            _advance(codeocean_fake)
    assert isinstance(results.pop("no-such-run"), co.NotFoundError)
    assert all(isinstance(r, co.Computation) and r.finished for r in results.values())
    kinds = _kinds(codeocean_fake)
    assert kinds["list"] == 1  # it failed: the runs of that capsule are fetched one by one
    assert kinds["get"] >= 5


async def test_shared_watches_yield_every_state_in_order(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(10, 10, 10))["id"]
    runs = await _launch(client, capsule, 5)
    seen: dict[str, list[str]] = collections.defaultdict(list)

    async def follow(run: co.Computation) -> None:
        async for c in client.computations.watch(run):
            seen[run.id].append(str(c.state))

    step: Callable[[], Awaitable[None]] = lambda: anyio.sleep(0.15)  # noqa: E731
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(follow, run)
            for _ in range(3):
                await step()
                _advance(codeocean_fake, 10)
    states = ["initializing", "running", "finalizing", "completed"]
    assert dict(seen) == {run.id: states for run in runs}
    assert _kinds(codeocean_fake)["get"] == 0


async def test_a_listing_cut_by_the_runners_cancellation_is_sent_again_at_once(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    made = [codeocean_fake.add_computation(capsule_id=capsule, durations=(1, 1, 1)) for _ in "abcd"]
    codeocean_fake.faults.script("GET", "/capsules/*/computations", Fault.slow(0.3))
    steady = co.PollPolicy(initial=2, maximum=2, jitter=0)  # the next tick is 2 s off
    hub = client.computations._bound.waits
    scopes = [anyio.CancelScope() for _ in made]
    finals: list[co.Computation] = []

    async def one(i: int) -> None:
        with scopes[i]:
            finals.append(
                await client.computations.wait_for_completion(
                    str(made[i]["id"]), capsule_id=capsule, poll=steady
                )
            )

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            for i in range(len(made)):
                tg.start_soon(one, i)
            await anyio.sleep(0.1)  # the first listing is on its way, in the runner's task
            assert _kinds(codeocean_fake) == {"list": 1}
            runner = hub._runner
            assert runner is not None
            _advance(codeocean_fake)
            scopes[[m["id"] for m in made].index(runner.id)].cancel()
            await anyio.sleep(0.2)
            # The next runner asked again at once, not a tick (2 s) later, and it answered.
            assert _kinds(codeocean_fake) == {"list": 2}
    assert len(finals) == 3


async def test_a_dropped_watch_or_a_raising_on_update_leaves_the_loop(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    runs = await _launch(client, capsule, 3)
    hub = client.computations._bound.waits
    async for state in client.computations.watch(runs[0]):
        assert state.state is co.ComputationState.INITIALIZING
        break
    assert hub.waiting == 0  # left early: the run is no longer followed

    def on_update(computation: co.Computation) -> None:
        raise RuntimeError("the caller's bug")

    with pytest.raises(RuntimeError):
        await client.computations.wait_for_completion(runs[1], on_update=on_update)
    assert hub.waiting == 0
    await _quiet_after(codeocean_fake, client)


async def test_a_wait_alone_sends_what_it_did_a_get_of_its_run_per_tick(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    (run,) = await _launch(client, capsule, 1)
    codeocean_fake.reset_requests()
    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.computations.wait_for_completion, run)
            await anyio.sleep(0.2)
            _advance(codeocean_fake)
    paths = {r.path for r in codeocean_fake.requests}
    assert paths == {f"/api/v1/computations/{run.id}"}  # its own GETs, no listing
    assert 1 <= len(codeocean_fake.requests) <= 0.2 * RATE + 2
    await _quiet_after(codeocean_fake, client)


async def test_two_waits_on_one_run_share_its_gets_and_keep_their_own_deadlines(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    (run,) = await _launch(client, capsule, 1)
    eager = co.PollPolicy(initial=0.125, maximum=0.125, jitter=0)
    codeocean_fake.reset_requests()
    results: dict[str, object] = {}

    async def one(name: str, timeout: float | None) -> None:
        try:
            results[name] = await client.computations.wait_for_completion(
                run.id, timeout=timeout, poll=eager
            )
        except co.WaitTimeoutError as exc:
            results[name] = exc

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, "short", 0.2)
            tg.start_soon(one, "long", None)
            await anyio.sleep(0.5)
            assert list(results) == ["short"]
            _advance(codeocean_fake)
    short, long = results["short"], results["long"]
    assert isinstance(short, co.WaitTimeoutError)
    assert isinstance(long, co.Computation)
    assert long.finished
    # One run followed once: a GET per 0.125 s tick for both waits (about 6), not two (12).
    assert len(codeocean_fake.requests) <= 8


async def test_a_watch_closed_from_another_task_while_it_waits_ends_and_frees_the_loop(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=(1, 1, 1))["id"]
    first, second = await _launch(client, capsule, 2)
    states = client.computations.watch(first.id)
    assert (await states.__anext__()).state == co.ComputationState.INITIALIZING
    seen: list[str] = []

    async def consume() -> None:
        async for state in states:  # this step runs the shared loop when aclose comes
            seen.append(str(state.state))
        seen.append("end")

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.sleep(0.05)
            await states.aclose()  # from another task
            _advance(codeocean_fake)
            # The closed watch's step ends, and the loop is free for every later wait.
            done = await client.computations.wait_for_completion(second.id)
    assert seen == ["end"]
    assert done.state == co.ComputationState.COMPLETED
