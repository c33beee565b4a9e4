"""Clocks for the fake Code Ocean: a manual one for tests and the real monotonic one."""

from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "ManualClock", "MonotonicClock"]


class Clock(Protocol):
    """What the fake reads time from: seconds since the fake started, as a float."""

    def now(self) -> float: ...


class ManualClock:
    """A clock that moves only when the test calls :meth:`advance`. It starts at ``start``."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward; a negative step raises ``ValueError``."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance({seconds!r}))")
        self._now += float(seconds)

    def __repr__(self) -> str:
        return f"ManualClock(now={self._now!r})"


class MonotonicClock:
    """The real clock: monotonic seconds since this object was created."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._start

    def __repr__(self) -> str:
        return f"MonotonicClock(now={self.now():.3f})"
