"""``CodeOceanRunOperator``: launch a capsule or pipeline run, defer the wait, return the result."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import anyio
from airflow.sdk import BaseOperator, Context, Variable

from .._airflow_support import capture_params, run_params, seconds_left, to_xcom, wait_for
from ..models import Computation, Outcome, RunParams
from .hooks import CodeOceanHook
from .triggers import CodeOceanComputationTrigger, computation_from_event

__all__ = ["CodeOceanRunOperator"]

#: The launched computation's ID, kept where a retry of the same task finds it.
RECORD_KEY = "codeocean_computation_id"


def _variable_key(context: Context) -> str:
    ti = context["ti"]
    return f"codeocean_async:{ti.dag_id}:{ti.task_id}:{ti.run_id}:{ti.map_index}"


def recorded_launch(context: Context) -> str | None:
    """The computation an earlier try of this task instance launched, if any.

    Kept in the task's ``task_state_store`` (Airflow 3.3: it survives retries, not success),
    else in a Variable keyed by dag, task, run and map index (XCom is cleared on a retry).
    """
    store = context.get("task_state_store")
    if store is not None:
        value = store.get(RECORD_KEY)
    else:
        value = Variable.get(_variable_key(context), default=None)
    return str(value) if value else None


def record_launch(context: Context, computation_id: str | None) -> None:
    """Keep (or, with ``None``, forget) the computation this try launched."""
    store = context.get("task_state_store")
    if store is not None:
        if computation_id is None:
            store.delete(RECORD_KEY)
        else:
            store.set(RECORD_KEY, computation_id)
    elif computation_id is None:
        Variable.delete(_variable_key(context))
    else:
        Variable.set(_variable_key(context), computation_id)


class CodeOceanRunOperator(BaseOperator):
    """Run a capsule or pipeline on Code Ocean and return the finished computation (XCom JSON).

    The run fields are templated; ``data_assets`` takes what DAG files hold: ``"ID"``,
    ``"ID:MOUNT"``, ``{"id": ..., "mount": ...}``, or a templated string of a list. With
    ``deferrable=True`` (the default) the wait runs in the triggerer, holding no worker slot.
    An outcome other than success fails the task, naming it (unless
    ``raise_on_failure=False``). A retry waits on the computation an earlier try launched (or
    returns it if it succeeded) and launches again only after an unsuccessful finish.
    ``capture={"name": ..., "mount": ..., "tags": [...]}`` captures the results as a data asset
    once the run succeeds, waits until it is ready and pushes its ID as XCom ``data_asset_id``.
    Killing the task stops the computation.
    """

    template_fields: Sequence[str] = (
        "capsule_id",
        "pipeline_id",
        "version",
        "data_assets",
        "parameters",
        "named_parameters",
        "processes",
        "capture",
    )
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
        version: int | str | None = None,
        data_assets: Any = None,
        parameters: Any = None,
        named_parameters: Any = None,
        processes: Any = None,
        conn_id: str = "codeocean_default",
        deferrable: bool = True,
        timeout: float | None = None,
        raise_on_failure: bool = True,
        capture: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (capsule_id is None) == (pipeline_id is None):
            raise ValueError("give exactly one of capsule_id and pipeline_id")
        self.capsule_id = capsule_id
        self.pipeline_id = pipeline_id
        self.version = version
        self.data_assets = data_assets
        self.parameters = parameters
        self.named_parameters = named_parameters
        self.processes = processes
        self.conn_id = conn_id
        self.deferrable = deferrable
        self.timeout = timeout
        self.raise_on_failure = raise_on_failure
        self.capture = capture
        self.computation_id: str | None = None

    @property
    def hook(self) -> CodeOceanHook:
        return CodeOceanHook(self.conn_id)

    def _params(self) -> RunParams:
        return run_params(
            capsule_id=self.capsule_id,
            pipeline_id=self.pipeline_id,
            version=self.version,
            data_assets=self.data_assets,
            parameters=self.parameters,
            named_parameters=self.named_parameters,
            processes=self.processes,
        )

    def execute(self, context: Context) -> Any:
        params = self._params()  # checked (and the capture) before anything is sent
        capture_params(self.capture)
        deadline = None if self.timeout is None else time.time() + self.timeout
        previous = recorded_launch(context)
        computation, launched = anyio.run(self._launch_or_resume, params, previous)
        self.computation_id = computation.id
        if launched:
            record_launch(context, computation.id)
        context["ti"].xcom_push(key="computation_id", value=computation.id)
        if computation.finished:
            return self._finish(context, computation)
        if self.deferrable:
            self.defer(
                trigger=CodeOceanComputationTrigger(
                    computation.id,
                    conn_id=self.conn_id,
                    deadline=deadline,
                    capsule_id=params.capsule_id,
                    pipeline_id=params.pipeline_id,
                ),
                method_name="execute_complete",
            )
        done = anyio.run(self._wait, computation.id, params, seconds_left(deadline))
        return self._finish(context, done)

    async def _launch_or_resume(
        self, params: RunParams, previous: str | None
    ) -> tuple[Computation, bool]:
        async with self.hook.get_client() as client:
            if previous is not None:
                earlier = await client.computations.get(previous)
                if not earlier.finished or earlier.outcome is Outcome.SUCCEEDED:
                    self.log.info(
                        "an earlier try launched Code Ocean computation %s (%s): not launching "
                        "another",
                        earlier.id,
                        earlier.outcome.value,
                    )
                    return earlier, False
                self.log.info(
                    "the earlier try's computation %s finished %s: launching again",
                    earlier.id,
                    earlier.outcome.value,
                )
            # A launch that may or may not have started a run is looked for, not failed: a
            # failed try with no record of its run would make the retry launch another.
            computation = await client.computations.run(params, on_uncertain="reconcile")
        self.log.info("launched Code Ocean computation %s", computation.id)
        return computation, True

    async def _wait(
        self, computation_id: str, params: RunParams, timeout: float | None
    ) -> Computation:
        async with self.hook.get_client() as client:
            return await wait_for(
                client,
                computation_id,
                capsule_id=params.capsule_id,
                pipeline_id=params.pipeline_id,
                timeout=timeout,
            )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Back from the trigger: the finished computation, or what went wrong."""
        self.computation_id = event.get("computation_id")
        computation = computation_from_event(event, raise_on_failure=False)
        return self._finish(context, computation)

    def _finish(self, context: Context, computation: Computation) -> Any:
        result = computation_from_event(
            {"status": "finished", "computation": to_xcom(computation)},
            raise_on_failure=self.raise_on_failure,
        )
        self.computation_id = None  # finished: nothing for on_kill to stop
        if result.outcome is Outcome.SUCCEEDED and self.capture is not None:
            asset_id = anyio.run(self._capture, result.id)
            context["ti"].xcom_push(key="data_asset_id", value=asset_id)
        if result.outcome is Outcome.SUCCEEDED:
            record_launch(context, None)
        return to_xcom(result)

    async def _capture(self, computation_id: str) -> str:
        keywords = capture_params(self.capture) or {}
        async with self.hook.get_client() as client:
            # An uncertain capture is looked for, not left to a retry to make again.
            asset = await client.data_assets.capture(
                computation_id,
                wait=True,
                timeout=self.timeout,
                on_uncertain="reconcile",
                **keywords,
            )
        self.log.info("captured computation %s as data asset %s", computation_id, asset.id)
        return asset.id

    def on_kill(self) -> None:
        """The task was killed while it launched or waited in the worker: stop the run."""
        computation_id = self.computation_id
        if computation_id is None:
            return

        async def stop() -> None:
            async with self.hook.get_client() as client:
                await client.computations.delete(computation_id)

        # A thread of its own: on_kill may interrupt a running event loop in this one.
        failed: list[BaseException] = []

        def run() -> None:
            try:
                anyio.run(stop)
            except BaseException as exc:  # reported below, in the task's log
                failed.append(exc)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        worker.join(30)
        if worker.is_alive() or failed:
            why = f"{failed[0]}" if failed else "no answer within 30 s"
            self.log.warning("could not stop Code Ocean computation %s: %s", computation_id, why)
        else:
            self.log.info("stopped Code Ocean computation %s", computation_id)
