"""The fake Code Ocean: an in-memory ASGI server, fault plan, clocks, socket runners, fixtures."""

from ._app import FakeCodeOcean
from ._clock import Clock, ManualClock
from ._fault_plan import FaultPlan
from ._faults import Fault
from ._hostile import Exchange, serve_hostile_in_thread
from ._records import RecordedRequest
from ._server import serve_in_thread
from ._storage import FakeStorage, StorageRequest

__all__ = [
    "Clock",
    "Exchange",
    "FakeCodeOcean",
    "FakeStorage",
    "Fault",
    "FaultPlan",
    "ManualClock",
    "RecordedRequest",
    "StorageRequest",
    "serve_hostile_in_thread",
    "serve_in_thread",
]
