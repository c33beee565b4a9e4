"""The fake Code Ocean: an in-memory ASGI server, its clocks, a socket runner, pytest fixtures."""

from ._app import FakeCodeOcean
from ._clock import Clock, ManualClock
from ._server import serve_in_thread
from ._store import RecordedRequest

__all__ = ["Clock", "FakeCodeOcean", "ManualClock", "RecordedRequest", "serve_in_thread"]
