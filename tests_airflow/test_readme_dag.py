"""The README's complete DAG runs to success on a real Airflow against the fake over a socket."""

from __future__ import annotations

import pytest
from airflow.utils.state import DagRunState
from readme_dag import dag

from codeocean_async.testing import FakeCodeOcean


@pytest.fixture
def fake() -> FakeCodeOcean:
    """The fake holding the demo capsule and data asset the README's DAG names."""
    return FakeCodeOcean.with_demo_data(run_durations=(0.1, 0.1, 0.1))


def test_the_readme_dag_runs_to_success_with_one_run_request(fake, served):
    run = dag.test()

    assert run.state == DagRunState.SUCCESS
    (post,) = [r for r in fake.requests if r.method == "POST" and r.path == "/api/v1/computations"]
    assert post.body["version"] == 2
    (report,) = [ti for ti in run.get_task_instances() if ti.task_id == "report"]
    summary = report.xcom_pull(task_ids="report")
    (asset_id,) = fake.created_data_assets
    assert summary == f"run {fake.created_computations[0]} ended succeeded; results: {asset_id}"
