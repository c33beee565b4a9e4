"""Computation state over the ManualClock: each outcome, run plans, stop and removal by DELETE."""

from typing import Any

import pytest

DURATIONS = (2.0, 3.0, 4.0)

TERMINAL = {
    "succeeded": {
        "state": "completed",
        "end_status": "succeeded",
        "exit_code": 0,
        "has_results": True,
    },
    "failed": {"state": "completed", "end_status": "failed", "exit_code": 1, "has_results": True},
    "stopped": {"state": "completed", "end_status": "stopped", "has_results": True},
    "state_failed": {"state": "failed", "end_status": "failed", "has_results": False},
}


def status(computation: dict[str, Any]) -> dict[str, Any]:
    keys = ("state", "end_status", "exit_code", "has_results", "run_time")
    return {k: computation[k] for k in keys if k in computation}


@pytest.fixture
def capsule(fake):
    return fake.add_capsule(id="c1", run_durations=DURATIONS)


async def start(http, outcome: str | None = None, fake=None, durations=None) -> str:
    if outcome is not None:
        fake.plan_next_run(outcome=outcome, durations=durations)
    response = await http.post("/computations", json={"capsule_id": "c1"})
    assert response.status_code == 200
    return str(response.json()["id"])


async def seen(http, comp_id: str) -> dict[str, Any]:
    response = await http.get(f"/computations/{comp_id}")
    assert response.status_code == 200
    return status(response.json())


@pytest.mark.anyio
@pytest.mark.parametrize("outcome", sorted(TERMINAL))
async def test_phases_then_terminal(fake, clock, http, capsule, outcome):
    comp_id = await start(http, outcome, fake)
    running = {"state": "running", "has_results": False}
    timeline = [
        (0.0, {"state": "initializing", "has_results": False, "run_time": 0}),
        (1.9, {"state": "initializing", "has_results": False, "run_time": 0}),
        (2.0, {**running, "run_time": 0}),
        (4.5, {**running, "run_time": 2}),
        (5.0, {"state": "finalizing", "has_results": False, "run_time": 3}),
        (8.9, {"state": "finalizing", "has_results": False, "run_time": 3}),
        (9.0, {**TERMINAL[outcome], "run_time": 3}),
        (500.0, {**TERMINAL[outcome], "run_time": 3}),
    ]
    for at, expected in timeline:
        clock.advance(at - clock.now())
        assert await seen(http, comp_id) == expected, at
    assert status(fake.computations[comp_id]) == TERMINAL[outcome] | {"run_time": 3}


@pytest.mark.anyio
async def test_failed_start_skips_running(fake, clock, http, capsule):
    comp_id = await start(http, "failed_start", fake)
    clock.advance(1.99)
    assert (await seen(http, comp_id))["state"] == "initializing"
    clock.advance(0.01)
    assert await seen(http, comp_id) == {
        "state": "completed",
        "end_status": "failed",
        "exit_code": 0,
        "has_results": False,
        "run_time": 0,
    }


@pytest.mark.anyio
async def test_plan_is_fifo_then_capsule_defaults(fake, clock, http):
    fake.add_capsule(id="c1", run_outcome="failed", run_durations=(0, 10, 0))
    fake.plan_next_run(outcome="state_failed", durations=(0, 1, 0))
    fake.plan_next_run(outcome="succeeded")  # the capsule's durations
    first, second, third = [await start(http) for _ in range(3)]
    clock.advance(1)
    assert (await seen(http, first))["state"] == "failed"
    assert (await seen(http, second))["state"] == "running"
    clock.advance(9)
    assert (await seen(http, second))["end_status"] == "succeeded"
    assert await seen(http, third) == TERMINAL["failed"] | {"run_time": 10}


@pytest.mark.anyio
async def test_zero_durations_end_at_once(fake, http):
    fake.add_capsule(id="c1", run_durations=(0, 0, 0))
    comp_id = await start(http)
    assert await seen(http, comp_id) == TERMINAL["succeeded"] | {"run_time": 0}
    assert status(fake.add_computation(outcome="failed")) == TERMINAL["failed"] | {"run_time": 0}


@pytest.mark.anyio
async def test_add_computation_moves_on_the_clock(fake, clock, http):
    fake.add_capsule(id="c1")
    comp = fake.add_computation(capsule_id="c1", durations=(1, 1, 1), outcome="failed")
    assert comp["state"] == "initializing"
    assert "end_status" not in comp
    clock.advance(3)
    assert await seen(http, comp["id"]) == TERMINAL["failed"] | {"run_time": 1}


@pytest.mark.anyio
async def test_delete_stops_a_running_computation(fake, clock, http, capsule):
    comp_id = await start(http)
    clock.advance(4.7)
    response = await http.delete(f"/computations/{comp_id}")
    assert (response.status_code, response.content) == (204, b"")
    stopped = TERMINAL["stopped"] | {"run_time": 2}
    assert await seen(http, comp_id) == stopped
    clock.advance(100)
    assert await seen(http, comp_id) == stopped
    listed = (await http.get("/capsules/c1/computations")).json()
    assert [c["id"] for c in listed] == [comp_id]
    # Deleting a finished computation removes it.
    assert (await http.delete(f"/computations/{comp_id}")).status_code == 204
    assert (await http.get(f"/computations/{comp_id}")).status_code == 404
    assert (await http.get("/capsules/c1/computations")).json() == []
    assert comp_id not in fake.computations
    assert (await http.delete(f"/computations/{comp_id}")).status_code == 404


@pytest.mark.anyio
async def test_delete_while_initializing(fake, clock, http, capsule):
    comp_id = await start(http)
    clock.advance(1)
    assert (await http.delete(f"/computations/{comp_id}")).status_code == 204
    assert await seen(http, comp_id) == TERMINAL["stopped"] | {"run_time": 0}


@pytest.mark.anyio
async def test_delete_removes_a_completed_computation(fake, clock, http, capsule):
    comp_id = await start(http, "failed", fake)
    clock.advance(9)
    assert (await http.delete(f"/computations/{comp_id}")).status_code == 204
    assert (await http.get(f"/computations/{comp_id}")).status_code == 404
