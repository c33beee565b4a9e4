"""What the command line writes: human tables and lines, JSON documents, errors, one place."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, TextIO

from ._converter import unstructure
from .models import Capsule, Computation, Outcome

__all__ = ["Output", "duration", "iso_utc", "plain"]

PROG = "codeocean-async"


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


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in (headers, *rows)
    ]


class Output:
    """Writes one command's results to ``out`` and its diagnostics to ``err``.

    In JSON mode ``out`` receives exactly one JSON document; progress lines go to ``err``.
    """

    def __init__(self, out: TextIO, err: TextIO, *, json_mode: bool) -> None:
        self.out = out
        self.err = err
        self.json_mode = json_mode

    def _write(self, stream: TextIO, text: str) -> None:
        stream.write(text + "\n")
        stream.flush()

    def line(self, text: str) -> None:
        """A line of human output (stdout)."""
        self._write(self.out, text)

    def document(self, model: Any) -> None:
        """The command's one JSON document (stdout)."""
        self._write(self.out, json.dumps(plain(model), indent=2))

    def error(self, message: str) -> None:
        """One line on stderr, prefixed with the program name."""
        self._write(self.err, f"{PROG}: error: {_one_line(message)}")

    def state(self, computation: Computation) -> None:
        """``HH:MM:SS  <id>  <state>``, at once: on stdout, or on stderr in JSON mode."""
        now = dt.datetime.now().strftime("%H:%M:%S")
        stream = self.err if self.json_mode else self.out
        self._write(stream, f"{now}  {computation.id}  {computation.state}")

    def capsule(self, capsule: Capsule) -> None:
        """A capsule's (or pipeline's) metadata as ``key  value`` lines, or its JSON."""
        if self.json_mode:
            self.document(capsule)
            return
        versions = ", ".join(
            f"{v.major_version}.{v.minor_version}"
            + (f" ({iso_utc(v.release_time)})" if v.release_time is not None else "")
            for v in capsule.versions or ()
        )
        fields = [
            ("name", capsule.name),
            ("id", capsule.id),
            ("slug", capsule.slug),
            ("status", None if capsule.status is None else str(capsule.status)),
            ("owner", capsule.owner_email or capsule.owner),
            ("created", iso_utc(capsule.created)),
            ("field", capsule.field),
            ("tags", ", ".join(capsule.tags or ())),
            ("versions", versions),
            ("description", capsule.description),
        ]
        for key, value in fields:
            if value:
                self.line(f"{key:<12} {_one_line(value)}")

    def computations(self, computations: Sequence[Computation], target_id: str) -> None:
        """A table (id, name, state, outcome, created, run_time), or a JSON list."""
        if self.json_mode:
            self.document(list(computations))
            return
        if not computations:
            self.line(f"No computations for {target_id}.")
            return
        headers = ("ID", "NAME", "STATE", "OUTCOME", "CREATED (UTC)", "RUN_TIME")
        rows = [
            (
                c.id,
                _one_line(c.name),
                str(c.state),
                str(c.outcome),
                iso_utc(c.created),
                duration(c.run_time),
            )
            for c in computations
        ]
        for text in _table(headers, rows):
            self.line(text)

    def launched(self, computation: Computation) -> None:
        """What ``run`` prints when it does not wait."""
        if self.json_mode:
            self.document(computation)
            return
        name = f" ({computation.name})" if computation.name else ""
        self.line(f"Started computation {computation.id}{name}: {computation.state}")
        self.line(f"Follow it with: {PROG} wait {computation.id}")

    def finished(self, computation: Computation) -> None:
        """The final result of a wait: its outcome line, or its JSON."""
        if self.json_mode:
            self.document(computation)
            return
        c = computation
        if c.outcome is Outcome.SUCCEEDED:
            detail = f"run time {duration(c.run_time)}"
        else:
            detail = f"state {c.state}, end status {c.end_status}, exit code {c.exit_code}"
        self.line(f"Computation {c.id} finished: {c.outcome} ({detail})")
