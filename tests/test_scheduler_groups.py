"""WaitScheduler edge cases around list-polling groups that empty and fill again."""

from __future__ import annotations

import anyio
import pytest

import codeocean_async as co
from codeocean_async._scheduler import WaitScheduler
from codeocean_async.models.parent import Parent
from codeocean_async.testing import FakeCodeOcean, ManualClock

pytestmark = pytest.mark.anyio

POLL = co.PollPolicy(initial=0.01, maximum=0.02, jitter=0)


async def test_runs_joining_a_group_that_emptied_are_followed(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    clock = codeocean_fake.clock
    assert isinstance(clock, ManualClock)
    capsule = codeocean_fake.add_capsule(run_durations=(0, 10, 0))["id"]

    async def list_for(parent: Parent) -> list[co.Computation]:
        return await client.capsules.list_computations(parent.id)

    scheduler = WaitScheduler(
        get=client.computations.get,
        list_for=list_for,
        poll=POLL,
        max_requests_per_second=None,
        strategy="list",
        on_event=None,
    )
    one = await client.computations.run(capsule_id=capsule)
    scheduler.add(one, index=0, parent=Parent("capsules", capsule))
    clock.advance(10)
    with anyio.fail_after(20):  # a guard against the hang this test is about
        first = await scheduler.next_done()
    assert [(d.indices, d.computation.outcome if d.computation else None) for d in first] == [
        ((0,), co.Outcome.SUCCEEDED)
    ]
    # The capsule's group is empty now; a new run of the capsule joins it again.
    two = await client.computations.run(capsule_id=capsule)
    scheduler.add(two, index=1, parent=Parent("capsules", capsule))
    scheduler.close()
    clock.advance(10)
    with anyio.fail_after(20):
        second = await scheduler.next_done()
        assert await scheduler.next_done() == []
    assert [d.indices for d in second] == [(1,)]
    assert scheduler.requests["get"] == 0  # all through the capsule's list
