"""``CodeOceanComputationTrigger``: a deferred wait on one computation, run by the triggerer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from airflow.sdk.exceptions import AirflowException
from airflow.triggers.base import BaseTrigger, TriggerEvent

from .._airflow_support import failure_message, follow, from_xcom
from ..models import Computation, Outcome
from .hooks import CLIENTS

__all__ = ["CodeOceanComputationTrigger", "computation_from_event"]


class CodeOceanComputationTrigger(BaseTrigger):
    """Waits until the computation finishes; yields one ``TriggerEvent``.

    Serialised as IDs, the connection ID and an absolute ``deadline`` (epoch seconds, or
    ``None``), so a triggerer that restarts picks the wait up where it was. Every trigger on
    one triggerer loop and connection shares one client (and so its poll loop). The event is
    ``{"status": "finished", "computation": {...}}``, or ``{"status": "timeout" | "error",
    "message": ...}`` naming what went wrong. A triggerer restart never stops the computation;
    a user killing the deferred task does (``on_kill``).
    """

    def __init__(
        self,
        computation_id: str,
        conn_id: str = "codeocean_default",
        deadline: float | None = None,
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow is untyped there
        self.computation_id = computation_id
        self.conn_id = conn_id
        self.deadline = deadline
        self.capsule_id = capsule_id
        self.pipeline_id = pipeline_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "computation_id": self.computation_id,
                "conn_id": self.conn_id,
                "deadline": self.deadline,
                "capsule_id": self.capsule_id,
                "pipeline_id": self.pipeline_id,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        event = await follow(
            CLIENTS,
            self.conn_id,
            self.computation_id,
            capsule_id=self.capsule_id,
            pipeline_id=self.pipeline_id,
            deadline=self.deadline,
        )
        if event["status"] != "finished":
            self.log.warning("%s", event["message"])
        yield TriggerEvent(event)  # type: ignore[no-untyped-call]

    async def on_kill(self) -> None:
        """The user killed the deferred task: stop the computation."""
        async with CLIENTS.client(self.conn_id) as client:
            await client.computations.delete(self.computation_id)
        self.log.info("stopped Code Ocean computation %s", self.computation_id)


def computation_from_event(event: dict[str, Any], *, raise_on_failure: bool) -> Computation:
    """The finished computation an event carries; an error event, or an outcome other than
    success when ``raise_on_failure``, fails the task with what went wrong."""
    if event.get("status") != "finished":
        raise AirflowException(event.get("message") or f"Code Ocean wait failed: {event!r}")
    computation = from_xcom(event["computation"])
    if raise_on_failure and computation.outcome is not Outcome.SUCCEEDED:
        raise AirflowException(failure_message(computation))
    return computation
