"""What batches do with exceptions: the caller's callback guarded, stray errors kept as records.

A batch is a ledger, so nothing one item raises may tear it down: an error from below that is not
a ``CodeOceanError`` becomes one (``unexpected``), and an exception from the caller's own
``on_event`` callback is kept (``EventSink``) while the batch winds down, then re-raised as the
caller's own bug, unwrapped, with what the batch had done attached (``attach``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from ._errors import CodeOceanError
from .models.batch import Event

__all__ = ["EventSink", "attach", "unexpected"]

logger = logging.getLogger("codeocean_async")


class EventSink:
    """Hands events to the caller's ``on_event``; the first exception it raises stops the sink.

    That exception is kept in ``error`` (it is the caller's, re-raised when the batch has wound
    down); the callback is not called again, and each ``on_error`` hook runs once.
    """

    def __init__(self, on_event: Callable[[Event], object] | None) -> None:
        self._on_event = on_event
        self.error: Exception | None = None
        self._hooks: list[Callable[[], None]] = []

    def on_error(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` when the callback first raises."""
        self._hooks.append(hook)

    @property
    def listening(self) -> bool:
        """Whether an event handed over now would reach the callback (else none need be made)."""
        return self._on_event is not None and self.error is None

    def __call__(self, event: Event) -> None:
        if self._on_event is None or self.error is not None:
            return
        try:
            self._on_event(event)
        except Exception as exc:  # the caller's bug: kept, and re-raised once the batch is safe
            self.error = exc
            logger.error(
                "the on_event callback raised %s on %s: the batch stops", type(exc).__name__, event
            )
            for hook in self._hooks:
                hook()


def unexpected(exc: Exception, what: str) -> CodeOceanError:
    """``exc`` as a ``CodeOceanError`` (itself if it is one; else one with it as the cause)."""
    if isinstance(exc, CodeOceanError):
        return exc
    error = CodeOceanError(f"{what} failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error


E = TypeVar("E", bound=BaseException)


def attach(exc: E, name: str, records: Any, note: str | None = None) -> E:
    """Give ``exc`` the attribute ``name`` = ``records`` (and the note ``note``); return ``exc``."""
    with contextlib.suppress(AttributeError, TypeError):  # an exception class with __slots__
        setattr(exc, name, records)
    if note is not None:  # BaseException.add_note, which Python 3.10 lacks
        setattr(exc, "__notes__", [*getattr(exc, "__notes__", ()), note])  # noqa: B010
    return exc
