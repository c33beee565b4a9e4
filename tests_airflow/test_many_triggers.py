"""200 triggers at once in one event loop, as a triggerer runs them, over a socket."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from airflow.sdk.module_loading import import_string

from codeocean_async import AsyncCodeOcean
from codeocean_async.airflow import CodeOceanComputationTrigger, triggers
from codeocean_async.testing import FakeCodeOcean

pytestmark = pytest.mark.anyio

N = 200


@pytest.fixture
def many(fake: FakeCodeOcean, served: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """200 runs of one capsule, each deferred to its trigger; the clients the triggers opened."""
    cap = fake.add_capsule()
    runs = [fake.add_computation(capsule_id=cap["id"], durations=(0.2, 0.3, 0.2)) for _ in range(N)]
    opened: list[AsyncCodeOcean] = []
    factory = triggers.CLIENTS._factory

    async def counting(conn_id: str) -> AsyncCodeOcean:
        client = await factory(conn_id)
        opened.append(client)
        return client

    monkeypatch.setattr(triggers.CLIENTS, "_factory", counting)
    fake.reset_requests()
    return {"capsule": cap, "runs": runs, "opened": opened}


async def run_all(fake: FakeCodeOcean, capsule_id: str, runs: list[dict[str, Any]]) -> list[Any]:
    """What a triggerer does: rebuild each trigger from its serialised form, run them at once."""
    made = [CodeOceanComputationTrigger(r["id"], capsule_id=capsule_id) for r in runs]
    rebuilt = [import_string(path)(**kwargs) for path, kwargs in (t.serialize() for t in made)]
    events: list[Any] = []

    async def drive(trigger: CodeOceanComputationTrigger) -> None:
        async for event in trigger.run():
            events.append(event.payload)

    async with anyio.create_task_group() as tg:
        for trigger in rebuilt:
            tg.start_soon(drive, trigger)
    return events


def count(fake: FakeCodeOcean) -> dict[str, int]:
    gets = [r.path for r in fake.requests if r.method == "GET"]
    return {
        "get_one": sum(1 for p in gets if p.startswith("/api/v1/computations/")),
        "listings": sum(1 for p in gets if p.endswith("/computations") and "/capsules/" in p),
        "total": len(fake.requests),
    }


async def test_200_triggers_in_one_loop_each_yield_one_event_through_one_client(fake, many):
    """Passes with or without the shared poll loop: one client, one event per trigger."""
    events = await run_all(fake, many["capsule"]["id"], many["runs"])

    assert len(many["opened"]) == 1  # one client for the connection on this loop
    assert sorted(e["computation"]["id"] for e in events) == sorted(r["id"] for r in many["runs"])
    assert {e["status"] for e in events} == {"finished"}
    assert len(triggers.CLIENTS) == 0  # closed once the last trigger was done
    print("\n200 triggers, requests:", count(fake))


async def test_200_triggers_share_one_poll_loop(fake, many):
    """The shared poll loop: a few listings of the capsule per tick, no GET per trigger."""
    await run_all(fake, many["capsule"]["id"], many["runs"])

    counted = count(fake)
    print("\n200 triggers, shared loop, requests:", counted)
    assert counted["get_one"] == 0
    assert 1 <= counted["listings"] <= 20  # a few ticks of a 0.7 s run, one listing each
    assert counted["total"] == counted["listings"]
