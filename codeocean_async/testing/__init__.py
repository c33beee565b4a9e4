"""The fake Code Ocean: an in-memory ASGI server, fault plan, clocks, socket runners, fixtures."""

from ._app import FakeCodeOcean
from ._clock import Clock, ManualClock
from ._fault_plan import FaultPlan
from ._faults import Fault
from ._hostile import Exchange, serve_hostile_in_thread
from ._records import RecordedRequest
from ._server import serve_in_thread

__all__ = [
    "Clock",
    "Exchange",
    "FakeCodeOcean",
    "Fault",
    "FaultPlan",
    "ManualClock",
    "RecordedRequest",
    "serve_hostile_in_thread",
    "serve_in_thread",
]
