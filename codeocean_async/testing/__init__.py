"""The fake Code Ocean: an in-memory ASGI server, fault plan, clocks, socket runner, fixtures."""

from ._app import FakeCodeOcean
from ._clock import Clock, ManualClock
from ._faults import Fault, FaultPlan
from ._server import serve_in_thread
from ._store import RecordedRequest

__all__ = [
    "Clock",
    "FakeCodeOcean",
    "Fault",
    "FaultPlan",
    "ManualClock",
    "RecordedRequest",
    "serve_in_thread",
]
