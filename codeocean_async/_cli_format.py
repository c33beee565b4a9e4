"""Values as the command line shows them: times, durations, tables, one-line text, JSON forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ._converter import unstructure
from ._errors import LaunchUncertainError, WaitTimeoutError
from .models import Computation, LaunchOutcome, RunOutcome

__all__ = [
    "attempts_of",
    "batch_error",
    "batch_label",
    "count",
    "duration",
    "iso_utc",
    "one_line",
    "plain",
    "table",
    "uncertain_text",
]


def iso_utc(epoch: float) -> str:
    """``1700000000`` -> ``2023-11-14T22:13:20Z``."""
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(seconds: int) -> str:
    """Whole seconds as ``H:MM:SS`` (hours are not wrapped into days)."""
    minutes, secs = divmod(max(int(seconds), 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def plain(value: Any) -> Any:
    """A JSON-ready form of a model (the converter's), computations with their ``outcome``."""
    if isinstance(value, Computation):
        return {**unstructure(value), "outcome": value.outcome.value}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return unstructure(value)


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def one_line(text: str) -> str:
    return " ".join(text.split())


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]


def uncertain_text(exc: LaunchUncertainError, *, reconciled: bool) -> str:
    """What an uncertain launch means, in the command line's words (the library's message
    advises a keyword argument; the command line has its own flag, see ``uncertain_advice``)."""
    candidates = [c.id for c in exc.candidates]
    if candidates:
        what = "may have started one of these computations: " + ", ".join(candidates)
    else:
        what = "may or may not have started a computation"
        what += " (no matching computation found)" if reconciled else ""
    cause = exc.__cause__
    while isinstance(cause, LaunchUncertainError):  # a reconciliation's: the first failure's
        cause = cause.__cause__
    because = f" ({' '.join(str(cause).split())})" if cause is not None else ""
    return f"the run request {what}{because}; it was not resent"


def batch_label(o: LaunchOutcome | RunOutcome) -> str:
    """What became of a batch's spec, in a word or two: ``succeeded``, ``launch failed``..."""
    if isinstance(o, LaunchOutcome) and not o.sent:
        return "not sent"
    if isinstance(o.error, LaunchUncertainError):
        return "launch uncertain"
    if isinstance(o.error, WaitTimeoutError):
        return "timed out"
    if o.computation is None:
        return "launch failed" if o.error is not None else "no result"
    if o.error is not None:
        return "error"
    return "launched" if isinstance(o, LaunchOutcome) else str(o.computation.outcome)


def attempts_of(o: LaunchOutcome | RunOutcome) -> list[str]:
    """Every computation ID started for a batch's spec."""
    if isinstance(o, RunOutcome):
        return list(o.attempts)
    return [] if o.computation is None else [o.computation.id]


def batch_error(o: LaunchOutcome | RunOutcome, *, reconciled: bool) -> str | None:
    """What went wrong for a batch's spec, in one line (``None``: nothing)."""
    if isinstance(o, LaunchOutcome) and not o.sent:
        return "not sent"
    if isinstance(o.error, LaunchUncertainError):
        return uncertain_text(o.error, reconciled=reconciled)
    return None if o.error is None else one_line(str(o.error))
