"""Pacing: at most one start per interval, shared by everything that waits its turn."""

from __future__ import annotations

import math

import anyio

__all__ = ["Pacer"]


class Pacer:
    """Hands out turns at least ``interval`` seconds apart (``0`` or ``None``: no pacing).

    A turn is reserved before sleeping, so two tasks never share one; a task that wakes late
    keeps a whole interval before the next turn.
    """

    def __init__(self, interval: float | None) -> None:
        self._interval = interval or 0.0
        self._next = -math.inf

    @property
    def paced(self) -> bool:
        """Whether turns are spaced at all (``False``: ``turn`` never waits)."""
        return bool(self._interval)

    async def turn(self) -> None:
        """Wait for this caller's turn."""
        if not self._interval:
            return
        now = anyio.current_time()
        slot = max(now, self._next)
        self._next = slot + self._interval
        if slot > now:
            await anyio.sleep(slot - now)
        started = anyio.current_time()
        if started > slot:
            self._next = max(self._next, started + self._interval)
