"""Real DAGs on a real Airflow (``dag.test()``) against the fake Code Ocean over a socket."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.utils.state import DagRunState, TaskInstanceState
from dags.codeocean_dags import failing, retried, sensor, variants

from codeocean_async.testing import FakeCodeOcean


def posts(fake: FakeCodeOcean, path: str = "/api/v1/computations") -> int:
    return sum(1 for r in fake.requests if r.method == "POST" and r.path == path)


def states(run: Any) -> dict[str, Any]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


def xcom(run: Any, task_id: str, key: str = "return_value") -> Any:
    (ti,) = [ti for ti in run.get_task_instances() if ti.task_id == task_id]
    return ti.xcom_pull(task_ids=task_id, key=key)


def test_the_three_run_variants_and_a_pipeline_defer_and_complete(fake, served):
    cap = fake.add_capsule(versions=(1,))
    pipe = fake.add_pipeline()
    asset = fake.add_data_asset(mount="input")
    run = variants.test(
        run_conf={"capsule_id": cap["id"], "asset_id": asset["id"], "pipeline_id": pipe["id"]}
    )
    print(states(run))
    print([(r.method, r.path) for r in fake.requests])
    assert run.state == DagRunState.SUCCESS
