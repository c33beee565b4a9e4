"""run_many and run_and_wait_many: input order, one launch per spec, the shared 429 gate, pacing,
fail_fast, events, relaunching failed starts, cancellation from outside, specs as JSON lines."""

from __future__ import annotations

import itertools
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import stamina

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, Fault

pytestmark = pytest.mark.anyio

QUICK = co.PollPolicy(initial=0.02, maximum=0.1, jitter=0)
LONG = (0.05, 60.0, 0.05)  # runs that outlast every test
GUARD = 30  # seconds: a guard against hangs only, never a timing figure


@pytest.fixture
def codeocean_fake() -> FakeCodeOcean:
    """The fake on the real clock: runs move on by themselves (``client`` uses this one).

    On today's date, as a real server is: reconciling believes a server clock only within
    minutes of the local one, or as a launch of this client measured it."""
    return FakeCodeOcean(base_time=int(time.time()))


@pytest.fixture
def capsule(codeocean_fake: FakeCodeOcean) -> str:
    return str(codeocean_fake.add_capsule(run_durations=(0.01, 0.01, 0.01))["id"])


def _client(fake: FakeCodeOcean, transport: httpx.AsyncBaseTransport) -> co.AsyncCodeOcean:
    options: dict[str, Any] = {"allow_insecure_http": True, "poll": QUICK}
    return co.AsyncCodeOcean(
        domain="http://codeocean.test", token=fake.token, transport=transport, **options
    )


class _Wire(httpx.AsyncBaseTransport):
    """The fake's transport, behaving as a network does: each request yields to the event loop
    on its way out. Notes when each request was handed over and when its answer came back.
    With ``hang_on=n`` the n-th POST is acted on by the fake, then never answered."""

    def __init__(self, fake: FakeCodeOcean, hang_on: int = 0) -> None:
        self._inner = fake.transport()
        self._hang_on = hang_on
        self.log: list[tuple[float, float, str, int]] = []  # sent, answered, method, status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = anyio.current_time()
        await anyio.lowlevel.checkpoint()
        response = await self._inner.handle_async_request(request)
        self.log.append((sent, anyio.current_time(), request.method, response.status_code))
        posts = sum(1 for e in self.log if e[2] == "POST")
        if request.method == "POST" and posts == self._hang_on:
            await anyio.sleep_forever()
        return response


def _param(computation: co.Computation | None) -> str | None:
    """The one positional parameter a computation ran with, as the server reports it."""
    assert computation is not None
    assert computation.parameters
    return computation.parameters[0].value


def _specs(target: dict[str, str], count: int) -> list[dict[str, Any]]:
    return [{**target, "parameters": [str(i)]} for i in range(count)]


async def test_two_thousand_runs_end_in_input_order_with_the_right_outcomes(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    fake = codeocean_fake
    durations = (0.05, 0.1, 0.05)
    targets = [
        ({"capsule_id": fake.add_capsule(run_durations=durations)["id"]}, co.Outcome.SUCCEEDED),
        (
            {"capsule_id": fake.add_capsule(run_outcome="failed", run_durations=durations)["id"]},
            co.Outcome.FAILED,
        ),
        ({"pipeline_id": fake.add_pipeline(run_durations=durations)["id"]}, co.Outcome.SUCCEEDED),
    ]
    specs = [{**targets[i % 3][0], "parameters": [str(i)]} for i in range(2000)]
    with anyio.fail_after(120):
        results = await client.computations.run_and_wait_many(
            specs, concurrency=16, poll=QUICK, max_requests_per_second=None
        )
    assert len(results) == 2000
    for i, result in enumerate(results):
        target, outcome = targets[i % 3]
        assert (result.index, result.error, result.outcome) == (i, None, outcome)
        assert result.spec == co.RunParams(**target, parameters=[str(i)])
        assert _param(result.computation) == str(i)
        assert result.attempts == (result.computation.id,)  # type: ignore[union-attr]
    created = fake.created_computations
    assert len(created) == len(set(created)) == 2000  # no duplicate, nothing dropped
    assert set(created) == {r.attempts[0] for r in results}


async def test_run_many_takes_run_params_and_mappings_in_input_order(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    asset = codeocean_fake.add_data_asset(mount="in")["id"]
    pipeline = codeocean_fake.add_pipeline()["id"]
    specs: list[Any] = [
        co.RunParams(capsule_id=capsule, parameters=["a"]),
        {"capsule_id": capsule, "named_parameters": {"k": "v"}},
        {"pipeline_id": pipeline, "parameters": ["b"]},
        {"capsule_id": capsule, "data_assets": [asset]},
    ]
    results = await client.computations.run_many(specs, concurrency=3)
    assert [(r.index, r.ok, r.error) for r in results] == [(i, True, None) for i in range(4)]
    assert results[0].spec is specs[0]
    assert results[1].spec == co.RunParams(capsule_id=capsule, named_parameters={"k": "v"})
    served = [codeocean_fake.computations[r.computation.id] for r in results if r.computation]
    named = [{"param_name": "k", "value": "v"}]
    assert [c["parameters"] for c in served] == [[{"value": "a"}], named, [{"value": "b"}], []]
    assert served[3]["data_assets"] == [{"id": asset, "mount": "in"}]
    assert len(codeocean_fake.created_computations) == 4


BAD_SPECS = [{"capsule_id": "c", "pipeline_id": "p"}, {"capsule_id": ""}, {"pipeline_id": "a/b"}]


@pytest.mark.parametrize("bad", [*BAD_SPECS, {"capsule_id": "c", "bogus": 1}, 42])
@pytest.mark.parametrize("method", ["run_many", "run_and_wait_many"])
async def test_a_bad_spec_is_refused_with_its_index_before_anything_is_sent(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str, bad: Any, method: str
) -> None:
    specs = [{"capsule_id": capsule}, {"capsule_id": capsule}, bad, {"capsule_id": capsule}]
    with pytest.raises((ValueError, TypeError), match="spec 2"):
        await getattr(client.computations, method)(iter(specs))
    assert codeocean_fake.requests == []


@pytest.mark.parametrize(
    "kwargs",
    [
        {"concurrency": 0},
        {"concurrency": True},
        {"launch_interval": math.nan},
        {"relaunch_failed_starts": -1},
        {"relaunch_backoff": -1},
    ],
)
async def test_bad_batch_settings_are_refused(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str, kwargs: Any
) -> None:
    with pytest.raises(ValueError):
        await client.computations.run_and_wait_many([{"capsule_id": capsule}], **kwargs)
    if "relaunch_failed_starts" not in kwargs and "relaunch_backoff" not in kwargs:
        with pytest.raises(ValueError):
            await client.computations.run_many([{"capsule_id": capsule}], **kwargs)
    assert codeocean_fake.requests == []


async def test_nothing_to_launch_gives_nothing(client: co.AsyncCodeOcean) -> None:
    assert await client.computations.run_many([]) == []
    assert await client.computations.run_and_wait_many([]) == []


@pytest.mark.parametrize("fail_fast", [False, True])
async def test_a_refused_launch_is_reported_and_fail_fast_stops_there(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str, fail_fast: bool
) -> None:
    events: list[co.Event] = []
    specs = _specs({"capsule_id": capsule}, 6)
    specs[1] = {"capsule_id": "no-such-capsule"}
    results = await client.computations.run_many(
        specs, concurrency=1, fail_fast=fail_fast, on_event=events.append
    )
    assert isinstance(results[1].error, co.NotFoundError)  # a 4xx: refused, not retried
    assert (results[1].sent, results[1].ok, results[1].uncertain) == (True, False, False)
    [failed] = [e for e in events if isinstance(e, co.LaunchFailed)]
    assert (failed.index, failed.error, failed.uncertain) == (1, results[1].error, False)
    launched = [0] if fail_fast else [0, 2, 3, 4, 5]
    assert [e.index for e in events if isinstance(e, co.Launched)] == launched
    assert [r.index for r in results if r.ok] == launched
    for never in results[2:] if fail_fast else ():
        assert (never.sent, never.ok, never.error) == (False, False, None)
    started = [
        codeocean_fake.computations[c]["parameters"] for c in codeocean_fake.created_computations
    ]
    assert started == [[{"value": str(i)}] for i in launched]


async def test_fail_fast_on_an_uncertain_launch_resends_nothing(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    codeocean_fake.faults.script("POST", "/computations", Fault.server_error(503))
    events: list[co.Event] = []
    results = await client.computations.run_many(
        [{"capsule_id": capsule}] * 5, concurrency=1, fail_fast=True, on_event=events.append
    )
    assert isinstance(results[0].error, co.LaunchUncertainError)
    assert [r.sent for r in results] == [True, False, False, False, False]
    assert [(type(e), getattr(e, "uncertain", None)) for e in events] == [(co.LaunchFailed, True)]
    assert codeocean_fake.created_computations == []
    assert sum(1 for r in codeocean_fake.requests if r.method == "POST") == 1


async def test_uncertain_launches_are_reconciled_never_resent(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    codeocean_fake.faults.script("POST", "/computations", *[Fault.drop_after()] * 3)
    results = await client.computations.run_many(
        _specs({"capsule_id": capsule}, 10), concurrency=4, on_uncertain="reconcile"
    )
    assert all(r.ok for r in results)
    assert [_param(r.computation) for r in results] == [str(i) for i in range(10)]
    created = codeocean_fake.created_computations
    assert len(created) == len(set(created)) == 10
    assert sum(1 for r in codeocean_fake.requests if r.method == "POST") == 10


async def test_a_429_holds_every_launch_until_its_retry_after(
    codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    hold = 0.5
    codeocean_fake.faults.script("POST", "/computations", Fault.rate_limited(retry_after=hold))
    wire = _Wire(codeocean_fake)
    held_at: list[float] = []

    def on_event(event: co.Event) -> None:
        if isinstance(event, co.LaunchRetried):
            held_at.append(anyio.current_time())  # the gate is closed by now

    # The hold is real time: stamina's testing mode (on for every test) would skip it.
    with stamina.set_testing(False):
        async with _client(codeocean_fake, wire) as client:
            with anyio.fail_after(GUARD):
                results = await client.computations.run_many(
                    _specs({"capsule_id": capsule}, 20), concurrency=8, on_event=on_event
                )
    assert all(r.ok for r in results)
    created = codeocean_fake.created_computations
    assert len(created) == len(set(created)) == 20  # every spec launched exactly once
    [answered_429] = [answered for _, answered, _, status in wire.log if status == 429]
    [closed] = held_at
    posts = [sent for sent, _, method, _ in wire.log if method == "POST"]
    assert len(posts) == 21
    assert not [t for t in posts if closed < t < answered_429 + hold]
    assert sum(1 for t in posts if t >= answered_429 + hold) >= 1  # the rest went after


async def test_launch_interval_spaces_the_launches(
    codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    interval = 0.05
    wire = _Wire(codeocean_fake)
    async with _client(codeocean_fake, wire) as client:
        await client.computations.run_many(
            [{"capsule_id": capsule}] * 6, concurrency=4, launch_interval=interval
        )
    sent = sorted(t for t, _, method, _ in wire.log if method == "POST")
    assert len(sent) == 6
    # Launch k never starts before k intervals have passed: a lower bound, so load cannot break
    # it (a late wake-up only delays a launch).
    for k in range(1, 6):
        assert sent[k] - sent[0] >= k * interval - 0.005


async def test_events_come_in_order_for_each_spec(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    codeocean_fake.faults.script("POST", "/computations", Fault.rate_limited(retry_after=0.05))
    events: list[co.Event] = []
    specs = [{"capsule_id": capsule}, {"capsule_id": "no-such-capsule"}, {"capsule_id": capsule}]
    with anyio.fail_after(GUARD):
        run_and_wait = client.computations.run_and_wait_many
        results = await run_and_wait(specs, concurrency=1, on_event=events.append)
    by_index: dict[int | None, list[Any]] = defaultdict(list)
    for event in events:
        assert not isinstance(event, co.BatchCancelled)
        by_index[event.index].append(event)
    assert [type(e) for e in by_index[1]] == [co.LaunchFailed]
    assert isinstance(results[1].error, co.NotFoundError)
    assert isinstance(by_index[0].pop(0), co.LaunchRetried)
    for index in (0, 2):
        first, *changes, last = by_index[index]
        assert (type(first), type(last)) == (co.Launched, co.Finished)
        assert last.computation == results[index].computation
        assert {type(e) for e in changes} == {co.StateChanged}
        previous = [None] + [str(e.computation.state) for e in changes[:-1]]
        assert [e.previous for e in changes] == previous
        assert changes[-1].computation.state is co.ComputationState.COMPLETED


@pytest.mark.parametrize(
    ("failed_starts", "cap", "outcome"),
    [
        (1, 2, co.Outcome.SUCCEEDED),
        (1, 0, co.Outcome.FAILED_START),
        (2, 1, co.Outcome.FAILED_START),
    ],
)
async def test_failed_starts_are_relaunched_up_to_the_cap(
    client: co.AsyncCodeOcean,
    codeocean_fake: FakeCodeOcean,
    capsule: str,
    failed_starts: int,
    cap: int,
    outcome: co.Outcome,
) -> None:
    for _ in range(failed_starts):
        codeocean_fake.plan_next_run(outcome="failed_start", durations=(0.02, 0, 0))
    events: list[co.Event] = []
    with anyio.fail_after(GUARD):
        [result] = await client.computations.run_and_wait_many(
            [{"capsule_id": capsule}],
            relaunch_failed_starts=cap,
            relaunch_backoff=0,
            on_event=events.append,
        )
    assert (result.outcome, result.error) == (outcome, None)
    tried = result.attempts
    assert len(tried) == 1 + min(failed_starts, cap)
    assert result.computation.id == tried[-1]  # type: ignore[union-attr]
    assert tried == tuple(codeocean_fake.created_computations)
    relaunched = [e for e in events if isinstance(e, co.Relaunched)]
    assert [(e.index, e.previous.id, e.computation.id) for e in relaunched] == [
        (0, *pair) for pair in itertools.pairwise(tried)
    ]
    assert {e.previous.outcome for e in relaunched} <= {co.Outcome.FAILED_START}


async def test_a_relaunch_that_fails_keeps_the_failed_start(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    codeocean_fake.plan_next_run(outcome="failed_start", durations=(0.02, 0, 0))

    def on_event(event: co.Event) -> None:  # the relaunch, not the first launch, meets a 503
        if isinstance(event, co.Launched):
            codeocean_fake.faults.script("POST", "/computations", Fault.server_error(503))

    with anyio.fail_after(GUARD):
        [result] = await client.computations.run_and_wait_many(
            [{"capsule_id": capsule}],
            relaunch_failed_starts=1,
            relaunch_backoff=0,
            on_event=on_event,
        )
    assert isinstance(result.error, co.LaunchUncertainError)
    assert result.outcome is co.Outcome.FAILED_START
    assert result.attempts == tuple(codeocean_fake.created_computations)


async def test_a_run_past_its_timeout_says_so_and_the_others_finish(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    slow = codeocean_fake.add_capsule(run_durations=LONG)["id"]
    with anyio.fail_after(GUARD):
        quick, late = await client.computations.run_and_wait_many(
            [{"capsule_id": capsule}, {"capsule_id": slow}], timeout=0.3
        )
    assert (quick.succeeded, quick.error) == (True, None)
    assert isinstance(late.error, co.WaitTimeoutError)
    assert late.outcome is co.Outcome.NOT_FINISHED
    assert late.attempts == (late.computation.id,)  # type: ignore[union-attr]


@pytest.mark.parametrize("how", ["deadline", "task_group"])
@pytest.mark.parametrize("method", ["run_many", "run_and_wait_many"])
async def test_cancelling_a_batch_reports_what_started_and_leaves_no_task(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, method: str, how: str
) -> None:
    capsule = codeocean_fake.add_capsule(run_durations=LONG)["id"]
    events: list[co.Event] = []
    launched = anyio.Event()

    def on_event(event: co.Event) -> None:
        events.append(event)
        if isinstance(event, co.Launched) and event.index == 3:
            launched.set()

    async def batch() -> None:
        specs = _specs({"capsule_id": capsule}, 40)
        await getattr(client.computations, method)(specs, launch_interval=0.02, on_event=on_event)

    tasks_before = {t.id for t in anyio.get_running_tasks()}
    with anyio.fail_after(GUARD):  # the runs take a minute: only cancelling ends the batch early
        if how == "deadline":
            with anyio.move_on_after(0.25) as scope:
                await batch()
            assert scope.cancelled_caught
        else:
            async with anyio.create_task_group() as tg:
                tg.start_soon(batch)
                await launched.wait()
                tg.cancel_scope.cancel()
    assert {t.id for t in anyio.get_running_tasks()} == tasks_before
    [cancelled] = [e for e in events if isinstance(e, co.BatchCancelled)]
    runs, created = codeocean_fake.computations, codeocean_fake.created_computations
    assert 0 < len(created) < 40
    started = {i for ids in cancelled.started.values() for i in ids}
    assert started <= set(created)
    for cid in set(created) - started:  # only a run request on its way may have started more
        assert int(runs[cid]["parameters"][0]["value"]) in cancelled.in_flight
    for index, ids in cancelled.started.items():  # index -> the run started for that spec
        assert [runs[i]["parameters"] for i in ids] == [[{"value": str(index)}]]
        assert runs[ids[0]]["state"] != "completed"  # it keeps running
    sent = {*cancelled.started, *cancelled.in_flight}
    assert cancelled.not_sent == tuple(i for i in range(40) if i not in sent)
    [again] = await client.computations.run_many([{"capsule_id": capsule}])  # still usable
    assert again.ok


async def test_a_launch_cancelled_in_flight_is_reported_as_such(
    codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    events: list[co.Event] = []
    async with _client(codeocean_fake, _Wire(codeocean_fake, hang_on=3)) as client:
        with anyio.fail_after(GUARD), anyio.move_on_after(0.2):
            specs = _specs({"capsule_id": capsule}, 5)
            await client.computations.run_many(specs, concurrency=1, on_event=events.append)
    [cancelled] = [e for e in events if isinstance(e, co.BatchCancelled)]
    third = codeocean_fake.created_computations[2]
    assert codeocean_fake.computations[third]["parameters"] == [{"value": "2"}]  # it started
    assert (cancelled.in_flight, cancelled.not_sent) == ((2,), (3, 4))


async def test_a_batch_yields_to_the_event_loop_between_launches(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, capsule: str
) -> None:
    async def cancel(scope: anyio.CancelScope) -> None:
        scope.cancel()

    with anyio.fail_after(GUARD):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.computations.run_many, [{"capsule_id": capsule}] * 300)
            tg.start_soon(cancel, tg.cancel_scope)  # runs as soon as the batch lets it
    assert len(codeocean_fake.created_computations) < 300


async def test_runs_finished_when_their_launch_returns_are_reported(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    instant = codeocean_fake.add_capsule(run_durations=(0, 0, 0))["id"]
    with anyio.fail_after(GUARD):
        results = await client.computations.run_and_wait_many([{"capsule_id": instant}] * 3)
    assert [r.outcome for r in results] == [co.Outcome.SUCCEEDED] * 3


# --- specs as JSON lines -----------------------------------------------------------------------


def test_specs_round_trip_through_json_lines(tmp_path: Path) -> None:
    specs = [
        co.RunParams(capsule_id="c1", version=2, parameters=["a", "b"]),
        co.RunParams(
            pipeline_id="p1",
            data_assets=[co.DataAssetsRunParam("d1", mount="in")],
            named_parameters={"k": "v"},
            processes=[co.PipelineProcessParams("align", parameters=["x"])],
            nextflow_profile="local",
        ),
    ]
    path = tmp_path / "specs.jsonl"
    co.write_specs(path, specs)
    assert len(path.read_text().splitlines()) == 2
    assert co.read_specs(path) == co.read_specs(str(path)) == specs
    with pytest.raises(TypeError, match="spec 1"):
        co.write_specs(path, [specs[0], {"capsule_id": "c"}])  # type: ignore[list-item]


def test_read_specs_skips_blank_lines_and_names_a_bad_one(tmp_path: Path) -> None:
    path = tmp_path / "specs.jsonl"
    path.write_text('{"capsule_id": "c1"}\n\n{"capsule_id": "c2"}\n')
    assert [s.capsule_id for s in co.read_specs(path)] == ["c1", "c2"]
    for bad in ('{"capsule_id": "c", "pipeline_id": "p"}', "{not json", '["c1"]'):
        path.write_text('{"capsule_id": "c1"}\n\n' + bad + "\n")
        with pytest.raises(ValueError, match="line 3"):
            co.read_specs(path)


def test_read_specs_checks_ids_and_reads_streams(tmp_path: Path) -> None:
    import io

    good = co.to_json(co.RunParams(capsule_id="cap-1"))
    bad = '{"capsule_id": "a/b"}'  # would change a URL path: refused
    path = tmp_path / "specs.jsonl"
    path.write_text(f"{good}\n\n{bad}\n")
    with pytest.raises(ValueError, match=r"specs\.jsonl, line 3: capsule_id"):
        co.read_specs(path)
    stream = io.StringIO(f"{good}\n{good}\n")
    assert co.read_specs(stream, name="<stdin>") == [co.RunParams(capsule_id="cap-1")] * 2
    with pytest.raises(ValueError, match=r"<stdin>, line 1"):
        co.read_specs(io.StringIO(f"{bad}\n"), name="<stdin>")
