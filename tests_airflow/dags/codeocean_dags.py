"""The DAGs the real-Airflow tests run (``dag.test()``); every ID comes from the run's conf."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from codeocean_async.airflow import CodeOceanComputationSensor, CodeOceanRunOperator

START = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
CAPSULE = "{{ dag_run.conf['capsule_id'] }}"

with DAG("codeocean_variants", schedule=None, start_date=START, catchup=False) as variants:
    CodeOceanRunOperator(task_id="latest", capsule_id=CAPSULE)
    CodeOceanRunOperator(task_id="released", capsule_id=CAPSULE, version=1)
    CodeOceanRunOperator(
        task_id="with_data",
        capsule_id=CAPSULE,
        data_assets=[
            {"id": "{{ dag_run.conf['asset_id'] }}", "mount": "input"},
            "{{ dag_run.conf['asset_id'] }}:second",
        ],
        named_parameters={"threshold": "{{ dag_run.conf.get('threshold', '0.5') }}"},
        capture={"name": "results-{{ ds }}", "mount": "results", "tags": ["airflow"]},
    )
    CodeOceanRunOperator(
        task_id="pipeline",
        pipeline_id="{{ dag_run.conf['pipeline_id'] }}",
        deferrable=False,
    )

with DAG("codeocean_failing", schedule=None, start_date=START, catchup=False) as failing:
    CodeOceanRunOperator(task_id="fails", capsule_id=CAPSULE)

with DAG(
    "codeocean_retried",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"retries": 3, "retry_delay": dt.timedelta(seconds=0)},
) as retried:
    # The first try's wait times out while the run goes on; a retry waits on that run.
    CodeOceanRunOperator(task_id="slow", capsule_id=CAPSULE, timeout=0.2)

with DAG(
    "codeocean_relaunched",
    schedule=None,
    start_date=START,
    catchup=False,
    default_args={"retries": 1, "retry_delay": dt.timedelta(seconds=0)},
) as relaunched:
    CodeOceanRunOperator(task_id="again", capsule_id=CAPSULE)

with DAG("codeocean_sensor", schedule=None, start_date=START, catchup=False) as sensor:
    CodeOceanComputationSensor(
        task_id="elsewhere", computation_id="{{ dag_run.conf['computation_id'] }}", timeout=60
    )
