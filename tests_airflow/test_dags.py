"""Real DAGs on a real Airflow (``dag.test()``) against the fake Code Ocean over a socket."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from airflow.utils.state import DagRunState, TaskInstanceState
from codeocean_dags import failing, relaunched, retried, sensor, variants
from sqlalchemy import select

from codeocean_async.airflow import triggers
from codeocean_async.testing import FakeCodeOcean


def run_posts(fake: FakeCodeOcean) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.path == "/api/v1/computations"]


def task_instances(run: Any) -> dict[str, Any]:
    return {ti.task_id: ti for ti in run.get_task_instances()}


def xcom(run: Any, task_id: str, key: str = "return_value") -> Any:
    return task_instances(run)[task_id].xcom_pull(task_ids=task_id, key=key)


def kept_by_airflow(run: Any) -> str:
    """Every XCom value and rendered template field of the run, as one text."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        xcoms = session.scalars(
            select(XComModel.value).where(
                XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id
            )
        ).all()
        rendered = session.scalars(
            select(RenderedTaskInstanceFields.rendered_fields).where(
                RenderedTaskInstanceFields.dag_id == run.dag_id,
                RenderedTaskInstanceFields.run_id == run.run_id,
            )
        ).all()
    assert xcoms
    assert rendered
    return repr(xcoms) + repr(rendered)


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The computation IDs each trigger run by ``dag.test()`` waited on."""
    seen: list[str] = []
    follow = triggers.follow

    async def spy(clients: Any, conn_id: str, computation_id: str, **kwargs: Any) -> Any:
        seen.append(computation_id)
        return await follow(clients, conn_id, computation_id, **kwargs)

    monkeypatch.setattr(triggers, "follow", spy)
    return seen


def test_the_three_run_variants_defer_and_complete_with_one_run_request_each(
    fake, served, deferred, capfd
):
    cap = fake.add_capsule(versions=(1,))
    pipe = fake.add_pipeline()
    asset = fake.add_data_asset(mount="input")
    conf = {"capsule_id": cap["id"], "asset_id": asset["id"], "pipeline_id": pipe["id"]}

    run = variants.test(run_conf=conf)

    assert run.state == DagRunState.SUCCESS
    tis = task_instances(run)
    assert {t: ti.state for t, ti in tis.items()} == dict.fromkeys(tis, TaskInstanceState.SUCCESS)
    bodies = [r.body for r in run_posts(fake)]
    assert len(bodies) == 4  # exactly one run request per task
    assert {"capsule_id": cap["id"], "version": 1} in bodies  # the released version
    assert {"capsule_id": cap["id"]} in bodies  # the latest code
    with_data = next(b for b in bodies if "data_assets" in b)
    assert with_data["data_assets"] == [
        {"id": asset["id"], "mount": "input"},
        {"id": asset["id"], "mount": "second"},
    ]
    assert with_data["named_parameters"] == [{"param_name": "threshold", "value": "0.5"}]
    assert {"pipeline_id": pipe["id"]} in bodies
    # Three deferred to the trigger; the pipeline task (deferrable=False) waited in the worker.
    results = {t: xcom(run, t) for t in tis}
    assert sorted(deferred) == sorted(results[t]["id"] for t in ("latest", "released", "with_data"))
    for result in results.values():
        assert result["state"] == "completed"
        assert result["end_status"] == "succeeded"
    assert xcom(run, "latest", "computation_id") == results["latest"]["id"]
    # The capture: named from the template, waited until ready, its ID in XCom.
    asset_id = xcom(run, "with_data", "data_asset_id")
    captured = fake.data_assets[asset_id]
    assert captured["state"] == "ready"
    assert captured["name"] == f"results-{run.logical_date:%Y-%m-%d}"
    assert captured["tags"] == ["airflow"]
    # The token is nowhere in what Airflow keeps: XCom and the rendered templates.
    kept = kept_by_airflow(run)
    assert cap["id"] in kept
    assert fake.token not in kept
    # Nor in the logs: the token, nor the base64 of the Basic header made from it.
    logged = "".join(capfd.readouterr())
    assert f"launched Code Ocean computation {results['latest']['id']}" in logged
    for secret in (fake.token, base64.b64encode(f"{fake.token}:".encode()).decode()):
        assert secret not in logged


def test_a_failing_run_fails_its_task_naming_the_outcome(fake, served, capfd):
    cap = fake.add_capsule(run_outcome="failed")

    run = failing.test(run_conf={"capsule_id": cap["id"]})

    assert run.state == DagRunState.FAILED
    assert task_instances(run)["fails"].state == TaskInstanceState.FAILED
    assert len(run_posts(fake)) == 1
    out, err = capfd.readouterr()
    assert f"computation {fake.created_computations[0]} finished failed" in out + err


def test_a_retried_task_waits_on_the_run_its_first_try_launched(fake, served, deferred):
    cap = fake.add_capsule(run_durations=(0.2, 0.2, 0.2))  # outlives the first try's 0.2 s

    run = retried.test(run_conf={"capsule_id": cap["id"]})

    assert run.state == DagRunState.SUCCESS
    ti = task_instances(run)["slow"]
    assert ti.try_number >= 2
    assert len(run_posts(fake)) == 1  # the retry did not launch another
    assert xcom(run, "slow")["id"] == fake.created_computations[0]
    assert deferred[0] == fake.created_computations[0]


def test_a_retry_after_a_failed_run_launches_again(fake, served):
    cap = fake.add_capsule()
    fake.plan_next_run(outcome="failed", durations=(0.1, 0.1, 0.1))

    run = relaunched.test(run_conf={"capsule_id": cap["id"]})

    assert run.state == DagRunState.SUCCESS
    assert task_instances(run)["again"].try_number == 2
    assert len(run_posts(fake)) == 2
    assert xcom(run, "again")["id"] == fake.created_computations[1]


def test_a_sensor_waits_on_a_run_started_elsewhere(fake, served, deferred):
    cap = fake.add_capsule()
    started = fake.add_computation(capsule_id=cap["id"], durations=(0.1, 0.2, 0.1))

    run = sensor.test(run_conf={"computation_id": started["id"]})

    assert run.state == DagRunState.SUCCESS
    assert run_posts(fake) == []
    assert deferred == [started["id"]]
    assert xcom(run, "elsewhere")["end_status"] == "succeeded"
