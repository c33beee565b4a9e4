"""The trigger, the hook and the operator in process against the fake (no scheduler, no DAG run)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from airflow.sdk.exceptions import AirflowException, TaskDeferred
from airflow.sdk.module_loading import import_string

from codeocean_async import AsyncCodeOcean
from codeocean_async._airflow_support import LoopClients
from codeocean_async.airflow import (
    CodeOceanComputationSensor,
    CodeOceanComputationTrigger,
    CodeOceanHook,
    CodeOceanRunOperator,
    hooks,
    operators,
    triggers,
)
from codeocean_async.testing import FakeCodeOcean

pytestmark = pytest.mark.anyio


def in_process(fake: FakeCodeOcean) -> AsyncCodeOcean:
    return AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=fake.transport(),
        allow_insecure_http=True,
        poll=hooks.PollPolicy(initial=0.01, maximum=0.05, jitter=0),
    )


@pytest.fixture
def local(fake: FakeCodeOcean, monkeypatch: pytest.MonkeyPatch) -> LoopClients:
    """Triggers, hooks and operators reach the in-process fake."""

    async def factory(conn_id: str) -> AsyncCodeOcean:
        assert conn_id == "codeocean_default"
        return in_process(fake)

    clients = LoopClients(factory)
    monkeypatch.setattr(triggers, "CLIENTS", clients)
    monkeypatch.setattr(CodeOceanHook, "get_client", lambda self, **kw: in_process(fake))
    return clients


async def events(trigger: CodeOceanComputationTrigger) -> list[dict[str, Any]]:
    stream: AsyncIterator[Any] = trigger.run()
    return [event.payload async for event in stream]


def test_the_trigger_serialises_to_ids_the_connection_and_an_absolute_deadline():
    trigger = CodeOceanComputationTrigger("c1", conn_id="co", deadline=1.7e9, capsule_id="p1")
    path, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == {
        "computation_id": "c1",
        "conn_id": "co",
        "deadline": 1.7e9,
        "capsule_id": "p1",
        "pipeline_id": None,
    }
    rebuilt = import_string(path)(**kwargs)
    assert rebuilt.serialize() == (path, kwargs)


async def test_the_trigger_yields_one_event_with_the_final_computation(fake, local):
    cap = fake.add_capsule()
    run = fake.add_computation(capsule_id=cap["id"], outcome="failed", durations=(0, 0, 0))

    got = await events(CodeOceanComputationTrigger(run["id"], capsule_id=cap["id"]))

    assert [e["status"] for e in got] == ["finished"]
    assert got[0]["computation"]["id"] == run["id"]
    assert got[0]["outcome"] == "failed"
    assert len(local) == 0  # the client was closed once no wait needed it


async def test_an_error_event_names_what_went_wrong(fake, local):
    (event,) = await events(CodeOceanComputationTrigger("4bc97533-6eb4-48ac-966f-648548a756d2"))
    assert event["status"] == "error"
    assert "NotFoundError" in event["message"]
    assert "4bc97533-6eb4-48ac-966f-648548a756d2" in event["message"]
    assert fake.token not in repr(event)


async def test_a_past_deadline_is_a_timeout_event_carrying_the_last_state(fake, local):
    cap = fake.add_capsule()
    run = fake.add_computation(capsule_id=cap["id"], durations=(60, 60, 60))

    (event,) = await events(CodeOceanComputationTrigger(run["id"], deadline=time.time() - 1))

    assert event["status"] == "timeout"
    assert event["computation"]["state"] == "initializing"
    assert run["id"] in event["message"]


async def test_cancelling_the_trigger_never_stops_the_run_but_on_kill_does(fake, local):
    cap = fake.add_capsule()
    run = fake.add_computation(capsule_id=cap["id"], durations=(60, 60, 60))
    trigger = CodeOceanComputationTrigger(run["id"])
    with anyio.move_on_after(0.1):  # a triggerer restart cancels its triggers
        await events(trigger)
    await trigger.cleanup()
    assert not [r for r in fake.requests if r.method == "DELETE"]

    await trigger.on_kill()  # the user killed the deferred task

    assert [r.path for r in fake.requests if r.method == "DELETE"] == [
        f"/api/v1/computations/{run['id']}"
    ]


def test_the_hook_reads_host_as_the_domain_and_password_as_the_token(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_CO_TEST",
        json.dumps(
            {
                "conn_type": "codeocean",
                "host": "acme.codeocean.com",
                "password": "cop_secret",
                "extra": {"agent_id": "airflow", "poll_initial": 2, "poll_maximum": 30},
            }
        ),
    )
    client = CodeOceanHook("co_test").get_client()
    assert client.domain == "https://acme.codeocean.com"
    assert client.agent_id == "airflow"
    assert (client.poll.initial, client.poll.maximum) == (2, 30)
    assert "cop_secret" not in repr(client)
    anyio.run(client.aclose)


class Store(dict[str, Any]):
    """The task's ``task_state_store`` (what survives a retry)."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value

    def delete(self, key: str) -> None:
        self.pop(key, None)


class TI:
    dag_id, task_id, run_id, map_index = "d", "t", "r", -1

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def context(store: Store | None = None) -> Any:
    return {"ti": TI(), "task_state_store": Store() if store is None else store}


def launches(fake: FakeCodeOcean) -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path == "/api/v1/computations")


def test_the_operator_launches_then_defers_with_a_deadline(fake, local):
    cap = fake.add_capsule()
    op = CodeOceanRunOperator(task_id="t", capsule_id=cap["id"], timeout=600, version=None)
    ctx = context()

    with pytest.raises(TaskDeferred) as deferred:
        op.execute(ctx)

    trigger = deferred.value.trigger
    (launched,) = fake.created_computations
    assert trigger.computation_id == launched
    assert trigger.capsule_id == cap["id"]
    assert time.time() + 590 < trigger.deadline <= time.time() + 600
    assert ctx["task_state_store"][operators.RECORD_KEY] == launched
    assert ctx["ti"].xcom["computation_id"] == launched


def test_a_retry_resumes_an_unfinished_launch_and_returns_a_succeeded_one(fake, local):
    cap = fake.add_capsule()
    running = fake.add_computation(capsule_id=cap["id"], durations=(60, 60, 60))
    done = fake.add_computation(capsule_id=cap["id"])
    op = CodeOceanRunOperator(task_id="t", capsule_id=cap["id"])

    with pytest.raises(TaskDeferred) as deferred:
        op.execute(context(Store({operators.RECORD_KEY: running["id"]})))
    assert deferred.value.trigger.computation_id == running["id"]

    store = Store({operators.RECORD_KEY: done["id"]})
    assert op.execute(context(store))["id"] == done["id"]
    assert launches(fake) == 0
    assert store == {}  # succeeded: the next run of the task launches anew


def test_an_unsuccessful_finish_fails_the_task_unless_told_otherwise(fake, local):
    cap = fake.add_capsule()
    failed = fake.add_computation(capsule_id=cap["id"], outcome="stopped")
    event = {"status": "finished", "computation": fake.computations[failed["id"]]}
    op = CodeOceanRunOperator(task_id="t", capsule_id=cap["id"])
    with pytest.raises(AirflowException, match="finished stopped"):
        op.execute_complete(context(), event)
    lenient = CodeOceanRunOperator(task_id="t", capsule_id=cap["id"], raise_on_failure=False)
    assert lenient.execute_complete(context(), event)["id"] == failed["id"]
    with pytest.raises(AirflowException, match="NotFoundError"):
        op.execute_complete(context(), {"status": "error", "message": "NotFoundError: gone"})


def test_bad_run_fields_are_refused_before_anything_is_sent(fake, local):
    op = CodeOceanRunOperator(task_id="t", capsule_id="c1", data_assets=[{"mount": "x"}])
    with pytest.raises(ValueError, match="data_assets"):
        op.execute(context())
    assert fake.requests == []


def test_killing_a_task_that_waits_in_the_worker_stops_the_run(fake, local):
    cap = fake.add_capsule()
    op = CodeOceanRunOperator(task_id="t", capsule_id=cap["id"])
    with pytest.raises(TaskDeferred):
        op.execute(context())

    op.on_kill()

    assert [r.method for r in fake.requests if r.method == "DELETE"] == ["DELETE"]


def test_a_sensor_that_does_not_defer_pokes_until_the_run_finishes(fake, local):
    cap = fake.add_capsule()
    running = fake.add_computation(capsule_id=cap["id"], durations=(60, 60, 60))
    failed = fake.add_computation(capsule_id=cap["id"], outcome="failed")
    sensor = CodeOceanComputationSensor(task_id="s", computation_id=running["id"], deferrable=False)
    assert sensor.poke(context()).is_done is False

    sensor.computation_id = failed["id"]
    with pytest.raises(AirflowException, match="finished failed"):
        sensor.poke(context())
    lenient = CodeOceanComputationSensor(
        task_id="s", computation_id=failed["id"], deferrable=False, raise_on_failure=False
    )
    done = lenient.poke(context())
    assert done.is_done is True
    assert done.xcom_value["id"] == failed["id"]


def test_without_a_task_state_store_the_launch_is_kept_in_a_variable(fake, local, monkeypatch):
    """Airflow before 3.3: a Variable keyed by dag, task, run and map index (XCom is cleared
    when a retry starts)."""
    kept: dict[str, str] = {}

    class Variable:
        get = staticmethod(lambda key, default=None: kept.get(key, default))
        set = staticmethod(kept.__setitem__)
        delete = staticmethod(kept.pop)

    monkeypatch.setattr(operators, "Variable", Variable)
    cap = fake.add_capsule()
    op = CodeOceanRunOperator(task_id="t", capsule_id=cap["id"])
    ctx = {"ti": TI()}
    with pytest.raises(TaskDeferred):
        op.execute(ctx)
    (launched,) = fake.created_computations
    assert kept == {"codeocean_async:d:t:r:-1": launched}

    with pytest.raises(TaskDeferred) as again:  # the retry
        op.execute({"ti": TI()})
    assert again.value.trigger.computation_id == launched
    assert fake.created_computations == [launched]
    final = {**fake.computations[launched], "state": "completed", "end_status": "succeeded"}
    done = {"status": "finished", "computation": final}
    assert op.execute_complete({"ti": TI()}, done)["id"] == launched
    assert kept == {}  # succeeded: a later run of the task launches anew
