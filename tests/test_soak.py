"""Soak: 300 launches and waits over real sockets with 429s, 5xx and dropped connections.

Asserts what users rely on: no duplicate computation on the server, every input accounted for
(its computation, or an explicit error that matches what the server did), and no wait running
past its deadline. The counts are printed (``pytest -s tests/test_soak.py``).
"""

from __future__ import annotations

import collections
import time
from typing import Any

import anyio
import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, Fault, serve_in_thread

RUNS = 300
WAIT_TIMEOUT = 30.0
SHORT_TIMEOUT = 1.0
# A deadline is checked before each poll and bounds each request; the slack covers the last
# request in flight and a loaded 2-core machine. It is a correctness bound, not a speed claim.
DEADLINE_SLACK = 10.0

POST_FAULTS = (
    [Fault.rate_limited(retry_after=0)] * 4
    + [Fault.rate_limited()] * 4
    + [Fault.server_error(503), Fault.server_error(502, html=True), Fault.server_error(504)]
    + [Fault.server_error(500)]
    + [Fault.drop_after(), Fault.drop_before()]
)  # at rate 0.35: 429 20%, 5xx 10%, drops 5%
GET_FAULTS = [
    Fault.rate_limited(),
    Fault.server_error(503),
    Fault.drop_before(),
    Fault.drop_after(),
    Fault.drift(),
]


def kinds_of(results: dict[int, Any]) -> collections.Counter[str]:
    return collections.Counter(type(r).__name__ for r in results.values())


@pytest.mark.anyio
async def test_soak_no_duplicates_nothing_lost_no_wait_past_its_deadline() -> None:
    fake = FakeCodeOcean(base_time=int(time.time()))  # reconciling believes today's clock
    capsule = fake.add_capsule(run_durations=(0.05, 0.1, 0.05))["id"]
    # Every tenth input runs far longer than its wait's deadline, so deadlines are really hit.
    slow_capsule = fake.add_capsule(run_durations=(0.05, 60, 0.05))["id"]
    fake.faults.random("POST", "/computations", rate=0.35, choices=POST_FAULTS, seed=11)
    fake.faults.random("GET", "/computations/*", rate=0.2, choices=GET_FAULTS, seed=12)
    fake.faults.random(
        "GET",
        "/capsules/*/computations",
        rate=0.1,
        choices=[Fault.rate_limited(), Fault.server_error(503)],
        seed=13,
    )
    results: dict[int, Any] = {}
    overruns: list[float] = []  # seconds each wait ran past its own deadline (negative: before)
    limiter = anyio.CapacityLimiter(50)

    with serve_in_thread(fake) as url:
        async with co.AsyncCodeOcean(
            domain=url,
            token=fake.token,
            poll=co.PollPolicy(initial=0.05, maximum=0.2),
            retry=co.RetryPolicy(settle=0.05),
            on_uncertain="reconcile",
        ) as client:

            async def one(i: int) -> None:
                slow = i % 10 == 0
                timeout = SHORT_TIMEOUT if slow else WAIT_TIMEOUT
                async with limiter:
                    try:
                        run = await client.computations.run(
                            capsule_id=slow_capsule if slow else capsule, parameters=[str(i)]
                        )
                    except co.CodeOceanError as exc:
                        results[i] = exc
                        return
                started = anyio.current_time()
                try:
                    results[i] = await client.computations.wait_for_completion(run, timeout=timeout)
                except co.CodeOceanError as exc:
                    results[i] = exc
                overruns.append(anyio.current_time() - started - timeout)

            with anyio.fail_after(240):  # a guard against a hang, not a speed claim
                async with anyio.create_task_group() as tg:
                    for i in range(RUNS):
                        tg.start_soon(one, i)

    # Which input each computation on the server belongs to (its one positional parameter).
    by_input: dict[int, list[str]] = collections.defaultdict(list)
    for computation_id in fake.created_computations:
        params = fake.computations[computation_id]["parameters"]
        by_input[int(params[0]["value"])].append(computation_id)

    duplicates = {i: ids for i, ids in by_input.items() if len(ids) > 1}
    assert duplicates == {}

    unaccounted = [i for i in range(RUNS) if i not in results]
    assert unaccounted == []
    for i, result in results.items():
        created = by_input.get(i, [])
        if isinstance(result, co.Computation):
            assert created == [result.id], i
            assert result.outcome is co.Outcome.SUCCEEDED, i
            assert i % 10, i  # the slow runs cannot have finished
        elif isinstance(result, co.WaitTimeoutError):
            assert i % 10 == 0, i
            assert result.computation is not None
            assert created == [result.computation.id], i
        elif isinstance(result, co.LaunchUncertainError):
            assert created == [], i  # reconciliation found nothing because nothing started
        else:
            assert isinstance(result, co.APIStatusError | co.APIConnectionError), repr(result)
    assert max(overruns) <= DEADLINE_SLACK
    assert kinds_of(results)["WaitTimeoutError"] > 0

    injected = collections.Counter(
        (method, fault.kind) for method, _path, fault in fake.faults.injected
    )
    kinds = kinds_of(results)
    post_429 = injected["POST", "rate_limited"]
    post_5xx = injected["POST", "server_error"]
    print(  # noqa: T201 - the counts the closing note reports
        f"\nsoak: {RUNS} inputs, {len(fake.created_computations)} computations created; "
        f"POST faults: {post_429} x 429, {post_5xx} x 5xx, "
        f"{injected['POST', 'drop_after']} dropped after acting, "
        f"{injected['POST', 'drop_before']} dropped before acting; "
        f"GET faults: {sum(v for (m, _), v in injected.items() if m == 'GET')}; "
        f"results: {dict(kinds)}; duplicates: {len(duplicates)}; unaccounted: {len(unaccounted)}; "
        f"worst wait overrun past its deadline: {max(overruns):.2f} s"
    )
    assert post_429 > 0
    assert post_5xx > 0
    assert injected["POST", "drop_after"] > 0
