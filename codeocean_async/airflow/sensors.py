"""``CodeOceanComputationSensor``: wait for a computation started elsewhere, deferred."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import anyio
from airflow.sdk import BaseSensorOperator, Context, PokeReturnValue

from .._airflow_support import to_xcom
from ..models import Computation
from .hooks import CodeOceanHook
from .triggers import CodeOceanComputationTrigger, computation_from_event

__all__ = ["CodeOceanComputationSensor"]


class CodeOceanComputationSensor(BaseSensorOperator):
    """Wait until ``computation_id`` (templated) finishes; return it as XCom JSON.

    With ``deferrable=True`` (the default) the wait runs in the triggerer until the sensor's
    ``timeout`` (seconds, Airflow's sensor default unless given); otherwise it pokes every
    ``poke_interval``. An outcome other than success fails the task unless
    ``raise_on_failure=False``. ``capsule_id`` / ``pipeline_id``, when known, let many waits
    share one poll loop. The sensor never stops the computation.
    """

    template_fields: Sequence[str] = ("computation_id", "capsule_id", "pipeline_id")

    def __init__(
        self,
        *,
        computation_id: str,
        conn_id: str = "codeocean_default",
        deferrable: bool = True,
        raise_on_failure: bool = True,
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.computation_id = computation_id
        self.conn_id = conn_id
        self.deferrable = deferrable
        self.raise_on_failure = raise_on_failure
        self.capsule_id = capsule_id
        self.pipeline_id = pipeline_id

    async def _get(self) -> Computation:
        async with CodeOceanHook(self.conn_id).get_client() as client:
            return await client.computations.get(self.computation_id)

    def _result(self, computation: Computation) -> dict[str, Any]:
        event = {"status": "finished", "computation": to_xcom(computation)}
        return to_xcom(computation_from_event(event, raise_on_failure=self.raise_on_failure))

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        computation = anyio.run(self._get)
        if computation.finished:
            return self._result(computation)
        self.defer(
            trigger=CodeOceanComputationTrigger(
                computation.id,
                conn_id=self.conn_id,
                deadline=time.time() + float(self.timeout),
                capsule_id=self.capsule_id,
                pipeline_id=self.pipeline_id,
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> PokeReturnValue:
        computation = anyio.run(self._get)
        if not computation.finished:
            return PokeReturnValue(is_done=False)
        return PokeReturnValue(is_done=True, xcom_value=self._result(computation))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """Back from the trigger: the finished computation, or what went wrong."""
        return to_xcom(computation_from_event(event, raise_on_failure=self.raise_on_failure))
