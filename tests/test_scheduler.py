"""wait_all, as_completed and the WaitScheduler under them: input and completion order, list
polling proved in request counts, fallbacks, deadlines, the request-rate cap, cancellation."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import anyio
import httpx
import pytest

import codeocean_async as co
from codeocean_async._scheduler import WaitScheduler
from codeocean_async.models.parent import Parent
from codeocean_async.testing import FakeCodeOcean, Fault, ManualClock

from .conftest import FAST_POLL

pytestmark = pytest.mark.anyio

GUARD = 30  # seconds: a guard against hangs only, never a timing figure
STEPS = (1.0, 1.0, 1.0)  # a run on a ticking clock: initializing, running, finalizing, done


class _Ticking(httpx.AsyncBaseTransport):
    """The fake's transport; the fake's ManualClock moves one second on after every ``every``
    polls (GETs), so a run ages by poll rounds and request counts do not depend on timing."""

    def __init__(self, fake: FakeCodeOcean, every: int = 1) -> None:
        assert isinstance(fake.clock, ManualClock)
        self._inner = fake.transport()
        self._clock = fake.clock
        self._every = every
        self._polls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if request.method == "GET":
            self._polls += 1
            if self._polls % self._every == 0:
                self._clock.advance(1)
        return response


def _client(fake: FakeCodeOcean, transport: Any = None) -> co.AsyncCodeOcean:
    options: dict[str, Any] = {"allow_insecure_http": True, "poll": FAST_POLL}
    transport = transport or fake.transport()
    return co.AsyncCodeOcean(
        domain="http://x.test", token=fake.token, transport=transport, **options
    )


def _counts(fake: FakeCodeOcean) -> dict[str, int]:
    """Polls sent so far: computation listings and single-computation GETs."""
    counts = {"list": 0, "get": 0}
    for r in fake.requests:
        if r.method == "GET":
            counts["list" if r.path.endswith("/computations") else "get"] += 1
    return counts


def _runs(fake: FakeCodeOcean, capsule: str, count: int, **kwargs: Any) -> list[str]:
    return [str(fake.add_computation(capsule_id=capsule, **kwargs)["id"]) for _ in range(count)]


async def _wait_counting(count: int, strategy: Any, every: int = 1) -> dict[str, int]:
    fake = FakeCodeOcean(clock=ManualClock())
    capsule = fake.add_capsule()["id"]
    ids = _runs(fake, capsule, count, durations=STEPS)
    async with _client(fake, _Ticking(fake, every)) as client:
        with anyio.fail_after(GUARD):
            finals = await client.computations.wait_all(
                ids, capsule_id=capsule, strategy=strategy, max_requests_per_second=None
            )
    assert [c.id for c in finals] == ids
    assert all(c.outcome is co.Outcome.SUCCEEDED for c in finals)
    return _counts(fake)


async def test_list_polling_costs_the_same_for_10_or_500_runs() -> None:
    few, many = await _wait_counting(10, "list"), await _wait_counting(500, "list")
    assert few == many == {"list": 4, "get": 0}  # one listing per tick: 4 states, 4 ticks
    assert await _wait_counting(500, "auto") == many


@pytest.mark.parametrize("count", [10, 200])
async def test_per_run_polling_costs_a_request_per_run_per_tick(count: int) -> None:
    counts = await _wait_counting(count, "per_run", every=count)
    assert counts["list"] == 0
    assert 4 * count <= counts["get"] <= 5 * count


@pytest.mark.parametrize(("runs", "kind"), [(1, "get"), (2, "get"), (3, "list"), (8, "list")])
async def test_auto_lists_from_three_runs_of_a_capsule(
    codeocean_fake: FakeCodeOcean, runs: int, kind: str
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=STEPS)["id"]
    async with _client(codeocean_fake, _Ticking(codeocean_fake, runs)) as client:
        started = [await client.computations.run(capsule_id=capsule) for _ in range(runs)]
        with anyio.fail_after(GUARD):  # IDs alone: this client started them, it knows their capsule
            await client.computations.wait_all(
                [c.id for c in started], max_requests_per_second=None
            )
    counts = _counts(codeocean_fake)
    assert counts[kind] > 0
    assert counts["list" if kind == "get" else "get"] == 0


async def test_ids_alone_need_the_capsule_or_pipeline_to_be_listed(
    codeocean_fake: FakeCodeOcean,
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    pipeline = codeocean_fake.add_pipeline()["id"]
    of_capsule = _runs(codeocean_fake, capsule, 3)
    of_pipeline = [
        str(codeocean_fake.add_computation(pipeline_id=pipeline)["id"]) for _ in range(2)
    ]
    async with _client(codeocean_fake) as client:
        await client.computations.wait_all(of_capsule, strategy="list")
        assert _counts(codeocean_fake) == {"list": 0, "get": 3}  # whose runs? nobody said
        codeocean_fake.reset_requests()
        await client.computations.wait_all(of_capsule, strategy="list", capsule_id=capsule)
        await client.computations.wait_all(of_pipeline, strategy="list", pipeline_id=pipeline)
    assert [r.path.split("/")[3] for r in codeocean_fake.requests] == ["capsules", "pipelines"]
    assert _counts(codeocean_fake) == {"list": 2, "get": 0}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"capsule_id": "c", "pipeline_id": "p"},
        {"strategy": "sometimes"},
        {"max_requests_per_second": 0},
        {"max_requests_per_second": -1},
        {"max_requests_per_second": True},
    ],
)
async def test_bad_wait_settings_are_refused(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, kwargs: Any
) -> None:
    with pytest.raises(ValueError):
        await client.computations.wait_all(["a"], **kwargs)
    with pytest.raises(ValueError):
        client.computations.as_completed(["a"], **kwargs)
    with pytest.raises(ValueError, match="computation_id"):
        await client.computations.wait_all(["a", "b/c"])
    assert codeocean_fake.requests == []


@pytest.mark.parametrize("timeout", [-1, math.nan, "10", True])
async def test_bad_timeouts_are_refused(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, timeout: Any
) -> None:
    run = _runs(codeocean_fake, codeocean_fake.add_capsule()["id"], 1)
    with anyio.fail_after(GUARD), pytest.raises(ValueError, match="timeout"):
        await client.computations.wait_all(run, timeout=timeout)


async def test_nothing_to_wait_for(client: co.AsyncCodeOcean) -> None:
    assert await client.computations.wait_all([]) == []
    assert [c async for c in client.computations.as_completed([])] == []


@pytest.fixture
def three(codeocean_fake: FakeCodeOcean) -> tuple[str, list[str]]:
    """A capsule and three runs, input order A B C, finishing at ticks 3, 1, 2."""
    capsule = str(codeocean_fake.add_capsule()["id"])
    planned = [("failed", (0, 3, 0)), ("succeeded", (0, 1, 0)), ("stopped", (0, 2, 0))]
    ids = [
        str(codeocean_fake.add_computation(capsule_id=capsule, outcome=o, durations=d)["id"])
        for o, d in planned
    ]
    return capsule, ids


async def test_wait_all_returns_input_order_with_duplicates(
    codeocean_fake: FakeCodeOcean, three: tuple[str, list[str]]
) -> None:
    capsule, (a, b, c) = three
    events: list[co.Event] = []
    async with _client(codeocean_fake, _Ticking(codeocean_fake)) as client:
        with anyio.fail_after(GUARD):
            finals = await client.computations.wait_all(
                [a, b, a, c], capsule_id=capsule, on_event=events.append
            )
    assert [f.id for f in finals] == [a, b, a, c]
    assert [str(f.outcome) for f in finals] == ["failed", "succeeded", "failed", "stopped"]
    assert _counts(codeocean_fake) == {"list": 4, "get": 0}  # the duplicate costs nothing
    by_index: dict[int | None, list[Any]] = defaultdict(list)
    for event in events:
        assert isinstance(event, (co.StateChanged, co.Finished))
        by_index[event.index].append(event)
    assert sorted(by_index, key=str) == [0, 1, 2, 3]
    for index, seen in by_index.items():
        assert isinstance(seen[-1], co.Finished)
        assert seen[-1].computation == finals[index]  # type: ignore[index]
        changes = seen[:-1]
        assert all(isinstance(e, co.StateChanged) for e in changes)
        assert [e.previous for e in changes] == [None] + [
            str(e.computation.state) for e in changes[:-1]
        ]


async def test_as_completed_yields_in_completion_order(
    codeocean_fake: FakeCodeOcean, three: tuple[str, list[str]]
) -> None:
    capsule, (a, b, c) = three
    async with _client(codeocean_fake, _Ticking(codeocean_fake)) as client:
        with anyio.fail_after(GUARD):
            seen = [
                x.id
                async for x in client.computations.as_completed([a, b, c, b], capsule_id=capsule)
            ]
    assert seen == [b, b, c, a]


async def test_as_completed_can_be_left_early(
    codeocean_fake: FakeCodeOcean, three: tuple[str, list[str]]
) -> None:
    capsule, ids = three
    tasks_before = {t.id for t in anyio.get_running_tasks()}
    async with _client(codeocean_fake, _Ticking(codeocean_fake)) as client:
        seen = []
        async for computation in client.computations.as_completed(ids, capsule_id=capsule):
            seen.append(computation.id)
            break
        assert seen == [ids[1]]
        sent = len(codeocean_fake.requests)
        await anyio.sleep(0.05)
        assert len(codeocean_fake.requests) == sent  # nothing polls on behind our back
        assert {t.id for t in anyio.get_running_tasks()} == tasks_before
        assert (await client.computations.get(ids[0])).id == ids[0]


async def test_raise_on_failure_lists_every_run_that_did_not_succeed(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    planned = ["succeeded", "failed", "failed_start", "succeeded", "stopped", "state_failed"]
    ids = [
        str(codeocean_fake.add_computation(capsule_id=capsule, outcome=o)["id"]) for o in planned
    ]
    with pytest.raises(co.ComputationFailedError) as info:
        await client.computations.wait_all(ids, raise_on_failure=True)
    assert [c.id for c in info.value.failed] == [ids[1], ids[2], ids[4], ids[5]]
    assert info.value.computation.id == ids[1]
    assert info.value.outcome is co.Outcome.FAILED
    assert "4 of 6" in str(info.value)
    finals = await client.computations.wait_all(ids)  # without it: every final state, no raise
    assert [str(c.outcome) for c in finals] == [p.replace("state_", "") for p in planned]


@pytest.mark.parametrize("strategy", ["list", "per_run"])
async def test_a_timeout_carries_the_last_state_of_every_input(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, strategy: Any
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    done = _runs(codeocean_fake, capsule, 1)
    stuck = _runs(codeocean_fake, capsule, 1, durations=STEPS)
    ids = [stuck[0], done[0], stuck[0]]
    with anyio.fail_after(GUARD), pytest.raises(co.WaitTimeoutError) as info:
        await client.computations.wait_all(ids, timeout=0.1, strategy=strategy, capsule_id=capsule)
    assert isinstance(info.value, TimeoutError)
    last_seen = [(c.id, str(c.state)) if c else None for c in info.value.computations]
    assert last_seen == [(ids[0], "initializing"), (ids[1], "completed"), (ids[2], "initializing")]
    assert info.value.computation is not None
    assert info.value.computation.id == stuck[0]
    # as_completed yields what finished, then raises
    seen: list[str] = []

    async def collect() -> None:
        async for c in client.computations.as_completed(ids, timeout=0.1, capsule_id=capsule):
            seen.append(c.id)

    with anyio.fail_after(GUARD), pytest.raises(co.WaitTimeoutError):
        await collect()
    assert seen == done


async def test_the_deadline_cuts_a_long_poll_interval_short(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    ids = _runs(codeocean_fake, capsule, 4, durations=STEPS)
    hourly = co.PollPolicy(initial=3600, maximum=3600)
    for strategy in ("list", "per_run"):
        with anyio.fail_after(GUARD), pytest.raises(co.WaitTimeoutError):
            await client.computations.wait_all(
                ids, timeout=0.05, poll=hourly, strategy=strategy, capsule_id=capsule
            )


async def test_cancelling_a_wait_from_outside_leaves_no_task(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    ids = _runs(codeocean_fake, capsule, 5, durations=STEPS)
    tasks_before = {t.id for t in anyio.get_running_tasks()}
    with anyio.fail_after(GUARD), anyio.move_on_after(0.1) as scope:
        await client.computations.wait_all(ids[:2] + ids, capsule_id=capsule)
    assert scope.cancelled_caught
    assert {t.id for t in anyio.get_running_tasks()} == tasks_before
    assert (await client.computations.get(ids[0])).id == ids[0]


async def test_a_failing_listing_falls_back_to_polling_each_run(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    ids = _runs(codeocean_fake, capsule, 3)
    codeocean_fake.faults.script("GET", "/capsules/*/computations", Fault.server_error(500))
    finals = await client.computations.wait_all(ids, capsule_id=capsule)
    assert [c.id for c in finals] == ids
    assert all(c.outcome is co.Outcome.SUCCEEDED for c in finals)
    assert _counts(codeocean_fake) == {"list": 1, "get": 3}


async def test_a_run_missing_from_the_listing_is_fetched_directly(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule, other = codeocean_fake.add_capsule()["id"], codeocean_fake.add_capsule()["id"]
    ids = _runs(codeocean_fake, capsule, 3) + _runs(codeocean_fake, other, 1)
    finals = await client.computations.wait_all(ids, capsule_id=capsule, strategy="list")
    assert [c.id for c in finals] == ids
    # A listing may lag a launch, so a run missing from one listing gets a second look before
    # it is fetched directly.
    assert [r.path.rsplit("/", 1)[-1] for r in codeocean_fake.requests] == [
        "computations",
        "computations",
        ids[3],
    ]


async def test_a_deleted_run_raises_not_found(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    ids = _runs(codeocean_fake, capsule, 3)
    await client.computations.delete(ids[1])  # finished: deleted
    codeocean_fake.reset_requests()
    with pytest.raises(co.NotFoundError):
        await client.computations.wait_all(ids, capsule_id=capsule)
    assert [r.path.rsplit("/", 1)[-1] for r in codeocean_fake.requests] == [
        "computations",
        "computations",
        ids[1],
    ]


async def _requests_in_half_a_second(fake: FakeCodeOcean, cap: float) -> int:
    capsule = fake.add_capsule()["id"]
    ids = _runs(fake, capsule, 30, durations=STEPS)  # never finish: the clock stands still
    async with _client(fake) as client, anyio.create_task_group() as tg:
        tg.start_soon(
            lambda: client.computations.wait_all(
                ids, strategy="per_run", max_requests_per_second=cap
            )
        )
        await anyio.sleep(0.5)
        tg.cancel_scope.cancel()
    return len(fake.requests)


async def test_max_requests_per_second_caps_the_request_rate(
    codeocean_fake: FakeCodeOcean,
) -> None:
    # Requests are spaced 1 / cap apart: at most cap * 0.5 (+1 in flight) in half a second.
    assert await _requests_in_half_a_second(codeocean_fake, 10) <= 10 + 5 + 1


async def test_max_requests_per_second_holds_from_the_start(
    codeocean_fake: FakeCodeOcean,
) -> None:
    assert await _requests_in_half_a_second(codeocean_fake, 10) <= 5 + 1


# --- the WaitScheduler on its own ----------------------------------------------------------------


def _computation(cid: str, state: str = "running") -> co.Computation:
    end = {"end_status": "succeeded", "exit_code": 0} if state == "completed" else {}
    return co.Computation(id=cid, created=0, state=co.ComputationState(state), **end)  # type: ignore[arg-type]


class _Server:
    """Stub get/list_for for a scheduler: the states the test sets, and the calls made."""

    def __init__(self) -> None:
        self.states: dict[str, str] = {}
        self.calls: list[str] = []

    async def get(self, cid: str) -> co.Computation:
        self.calls.append(f"get {cid}")
        if cid not in self.states:
            raise co.CodeOceanError(f"no {cid}")
        return _computation(cid, self.states[cid])

    async def list_for(self, parent: Parent) -> list[co.Computation]:
        self.calls.append(f"list {parent.id}")
        return [_computation(cid, s) for cid, s in self.states.items()]

    def scheduler(self, strategy: Any = "auto") -> WaitScheduler:
        return WaitScheduler(
            get=self.get,
            list_for=self.list_for,
            poll=FAST_POLL,
            max_requests_per_second=None,
            strategy=strategy,
            on_event=None,
        )


async def test_scheduler_follows_the_same_run_once_for_every_place() -> None:
    server = _Server()
    server.states["r1"] = "completed"
    scheduler = server.scheduler()
    scheduler.nudge()  # nudged with nothing to follow: nothing
    assert await scheduler.next_done() == []
    scheduler.add("r1", index=0)
    scheduler.add("r1", index=2)
    scheduler.add("gone", index=1)
    scheduler.add(_computation("r2", "completed"), index=3)  # seen finished: no request
    assert scheduler.pending == 2
    done: dict[tuple[int, ...], Any] = {}
    while len(done) < 3:
        done.update({d.indices: d for d in await scheduler.next_done()})
    assert sorted(done) == [(0, 2), (1,), (3,)]
    assert done[(0, 2)].computation == _computation("r1", "completed")
    assert (done[(1,)].computation, type(done[(1,)].error)) == (None, co.CodeOceanError)
    assert (done[(3,)].computation, done[(3,)].error) == (_computation("r2", "completed"), None)
    assert sorted(server.calls) == ["get gone", "get r1"]
    assert scheduler.requests == {"get": 2, "list": 0}
    scheduler.close()
    assert await scheduler.next_done() == []


def _running(cid: str) -> co.Computation:
    return co.Computation(id=cid, created=1, state=co.ComputationState.RUNNING)


async def test_a_listing_of_garbage_ends_those_waits_with_an_error_not_a_group() -> None:
    # The callables under the scheduler can misbehave; whatever they hand back, every wait ends
    # with an outcome and no ExceptionGroup reaches the caller (found by the hostile soak).
    async def get(cid: str) -> co.Computation:
        return _running(cid)

    async def list_for(parent: Any) -> Any:
        return ["not a computation"]

    scheduler = WaitScheduler(
        get=get,
        list_for=list_for,
        poll=FAST_POLL,
        max_requests_per_second=None,
        strategy="list",
        on_event=None,
    )
    for cid in ("c-1", "c-2"):
        scheduler.add(_running(cid), parent=Parent("capsules", "cap-1"), index=int(cid[-1]))
    scheduler.close()
    with anyio.fail_after(GUARD):
        done = await scheduler.next_done()
    assert sorted(i for d in done for i in d.indices) == [1, 2]
    assert all(isinstance(d.error, co.CodeOceanError) for d in done)
    assert all(d.computation is not None and d.computation.id.startswith("c-") for d in done)


async def test_a_group_whose_runs_all_ended_before_its_turn_is_not_listed() -> None:
    listed: list[Any] = []

    async def get(cid: str) -> co.Computation:
        return _running(cid)

    async def list_for(parent: Any) -> list[co.Computation]:
        listed.append(parent)
        return []

    scheduler = WaitScheduler(
        get=get,
        list_for=list_for,
        poll=FAST_POLL,
        max_requests_per_second=None,
        strategy="list",
        on_event=None,
    )
    scheduler.add(_running("c-1"), parent=Parent("capsules", "cap-1"))
    (group,) = scheduler._groups.values()
    scheduler._end(scheduler._watches["c-1"], None, None)  # it ended while the group waited
    await scheduler._poll_one(group, anyio.Semaphore(1))
    assert listed == []
    assert scheduler.requests["list"] == 0
