"""The fan-out and the waits on many, driven by plain async functions: no client, no fake.

``run_many``, ``run_and_wait_many``, ``as_completed`` and ``wait_all`` of the helper layer take
the launch and the reads as callables; these tests hand them a few lines of Python standing in
for the API, so the batch logic is tested apart from HTTP.
"""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import codeocean_async as co
from codeocean_async._batch import run_and_wait_many, run_many
from codeocean_async._waits import Readers, WaitOptions, as_completed, wait_all
from codeocean_async.models.parent import Parent

from .conftest import FAST_POLL

pytestmark = pytest.mark.anyio

GUARD = 10  # seconds: a guard against hangs only
RUNNING = co.ComputationState.RUNNING
COMPLETED = co.ComputationState.COMPLETED


def _done(cid: str, end: co.ComputationEndStatus, **fields: Any) -> co.Computation:
    return co.Computation(id=cid, created=1, state=COMPLETED, end_status=end, **fields)


class Runs:
    """A stand-in for the API: each run is read twice running, then finished as planned."""

    def __init__(self) -> None:
        self.started: list[co.RunParams] = []
        self.parents: dict[str, Parent] = {}
        self.reads: dict[str, int] = {}
        self.calls: list[str] = []
        self.failed_start: str | None = None  # the first run of capsule "flaky" fails to start

    async def launch(self, params: co.RunParams, on_retry: Any) -> co.Computation:
        await anyio.lowlevel.checkpoint()
        if params.capsule_id == "refused":
            request = httpx.Request("POST", "https://x.test/computations")
            raise co.AuthenticationError(
                "401", response=httpx.Response(401, request=request), body=None
            )
        if params.capsule_id == "lost":
            request = httpx.Request("POST", "computations")
            raise co.LaunchUncertainError("no answer", request=request, sent_at=0.0)
        cid = f"c-{len(self.started)}"
        if params.capsule_id == "flaky" and self.failed_start is None:
            self.failed_start = cid
        self.started.append(params)
        self.parents[cid] = Parent.of(params)
        return co.Computation(id=cid, created=1, state=co.ComputationState.INITIALIZING)

    def state(self, cid: str) -> co.Computation:
        self.reads[cid] = self.reads.get(cid, 0) + 1
        if self.reads[cid] < 3:
            return co.Computation(id=cid, created=1, state=RUNNING)
        if cid == self.failed_start:
            return _done(cid, co.ComputationEndStatus.FAILED, exit_code=0, has_results=False)
        if cid.endswith("-bad"):
            return _done(cid, co.ComputationEndStatus.FAILED, exit_code=1)
        return _done(cid, co.ComputationEndStatus.SUCCEEDED, exit_code=0)

    async def get(self, cid: str) -> co.Computation:
        await anyio.lowlevel.checkpoint()
        self.calls.append(f"get {cid}")
        if cid == "missing":
            raise co.CodeOceanError("no such computation")
        return self.state(cid)

    async def list_for(self, parent: Parent) -> list[co.Computation]:
        await anyio.lowlevel.checkpoint()
        self.calls.append(f"list {parent.kind}/{parent.id}")
        return [self.state(cid) for cid, p in self.parents.items() if p == parent]

    def readers(self) -> Readers:
        return Readers(get=self.get, list_for=self.list_for, parent_of=self.parents.get)


def _specs(*capsules: str) -> list[co.RunParams]:
    return [co.RunParams(capsule_id=c) for c in capsules]


async def test_run_many_on_plain_functions_gives_one_outcome_per_spec_in_order() -> None:
    runs = Runs()
    events: list[Any] = []
    with anyio.fail_after(GUARD):
        outcomes = await run_many(
            _specs("a", "lost", "b"), launch=runs.launch, concurrency=2, on_event=events.append
        )
    assert [o.index for o in outcomes] == [0, 1, 2]
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].uncertain
    assert outcomes[1].sent
    assert sorted(o.computation.id for o in outcomes if o.computation) == ["c-0", "c-1"]
    assert sum(isinstance(e, co.Launched) for e in events) == 2
    assert sum(isinstance(e, co.LaunchFailed) for e in events) == 1


async def test_run_many_on_plain_functions_stops_at_a_401() -> None:
    runs = Runs()
    with anyio.fail_after(GUARD):
        outcomes = await run_many(_specs("refused", "a", "b"), launch=runs.launch, concurrency=1)
    assert isinstance(outcomes[0].error, co.AuthenticationError)
    assert [o.sent for o in outcomes] == [True, False, False]
    assert all(o.error is outcomes[0].error for o in outcomes)
    assert runs.started == []


async def test_a_launch_callable_that_raises_anything_is_recorded_not_raised() -> None:
    async def launch(params: co.RunParams, on_retry: Any) -> co.Computation:
        raise RuntimeError("a bug below")

    with anyio.fail_after(GUARD):
        [outcome] = await run_many(_specs("a"), launch=launch)
    assert isinstance(outcome.error, co.CodeOceanError)
    assert isinstance(outcome.error.__cause__, RuntimeError)


async def test_run_and_wait_many_on_plain_functions_relaunches_a_failed_start() -> None:
    runs = Runs()
    waits = WaitOptions(poll=FAST_POLL, max_requests_per_second=None, strategy="per_run")
    with anyio.fail_after(GUARD):
        outcomes = await run_and_wait_many(
            _specs("flaky", "b"),
            launch=runs.launch,
            readers=runs.readers(),
            waits=waits,
            relaunch_failed_starts=1,
            relaunch_backoff=0,
        )
    assert [o.succeeded for o in outcomes] == [True, True]
    first, relaunched = outcomes[0].attempts  # the failed start, then the relaunch
    assert first == runs.failed_start
    assert outcomes[0].computation is not None
    assert outcomes[0].computation.id == relaunched == "c-2"
    assert len(outcomes[1].attempts) == 1
    assert all(o.error is None for o in outcomes)


async def test_run_and_wait_many_on_plain_functions_lists_a_capsule_once_per_tick() -> None:
    runs = Runs()
    waits = WaitOptions(poll=FAST_POLL, max_requests_per_second=None, strategy="list")
    with anyio.fail_after(GUARD):
        outcomes = await run_and_wait_many(
            _specs("a", "a", "a", "lost"), launch=runs.launch, readers=runs.readers(), waits=waits
        )
    assert [o.succeeded for o in outcomes] == [True, True, True, False]
    assert isinstance(outcomes[3].error, co.LaunchUncertainError)
    assert outcomes[3].computation is None
    assert not any(call.startswith("get") for call in runs.calls)
    assert "list capsules/a" in runs.calls


async def test_wait_all_on_plain_functions_returns_final_states_in_input_order() -> None:
    runs = Runs()
    waits = WaitOptions(poll=FAST_POLL, max_requests_per_second=None)
    with anyio.fail_after(GUARD):
        finals = await wait_all(["r-2", "r-1-bad", "r-2"], readers=runs.readers(), waits=waits)
    assert [c.id for c in finals] == ["r-2", "r-1-bad", "r-2"]
    succeeded, failed = co.Outcome.SUCCEEDED, co.Outcome.FAILED
    assert [c.outcome for c in finals] == [succeeded, failed, succeeded]
    with anyio.fail_after(GUARD), pytest.raises(co.ComputationFailedError) as info:
        await wait_all(["x-bad"], readers=runs.readers(), waits=waits, raise_on_failure=True)
    assert [c.id for c in info.value.failed] == ["x-bad"]


async def test_wait_all_on_plain_functions_raises_one_run_error_after_the_others() -> None:
    runs = Runs()
    waits = WaitOptions(poll=FAST_POLL, max_requests_per_second=None)
    with anyio.fail_after(GUARD), pytest.raises(co.CodeOceanError) as info:
        await wait_all(["r-1", "missing"], readers=runs.readers(), waits=waits)
    last = info.value.computations  # type: ignore[attr-defined]
    assert last[0] is not None
    assert last[0].outcome is co.Outcome.SUCCEEDED
    assert last[1] is None


async def test_as_completed_on_plain_functions_groups_runs_of_a_given_parent() -> None:
    runs = Runs()
    runs.parents.update({f"p-{i}": Parent("pipelines", "pipe") for i in range(3)})
    readers = Readers(get=runs.get, list_for=runs.list_for)  # the parent is given, not known
    waits = WaitOptions(
        poll=FAST_POLL,
        max_requests_per_second=None,
        strategy="list",
        parent=Parent("pipelines", "pipe"),
    )
    seen = []
    with anyio.fail_after(GUARD):
        async for computation in as_completed(["p-0", "p-1", "p-2"], readers=readers, waits=waits):
            seen.append(computation.id)
    assert sorted(seen) == ["p-0", "p-1", "p-2"]
    assert set(runs.calls) <= {"list pipelines/pipe", "get p-0", "get p-1", "get p-2"}
    assert "list pipelines/pipe" in runs.calls


def test_wait_options_check_their_timeout() -> None:
    with pytest.raises(ValueError, match="timeout"):
        WaitOptions(poll=FAST_POLL, timeout=-1)
