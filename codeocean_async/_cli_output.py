"""What the command line writes: human tables and lines, JSON documents, errors, one place."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from ._cli_format import (
    attempts_of,
    batch_error,
    batch_label,
    count,
    duration,
    iso_utc,
    one_line,
    plain,
    table,
    uncertain_text,
)
from ._cli_stop import (
    Known,
    stop_summary,
    uncertain_advice,
    uncertain_document,
)
from ._converter import unstructure
from ._errors import LaunchUncertainError
from .models import (
    BatchCancelled,
    Capsule,
    Computation,
    Event,
    Finished,
    Launched,
    LaunchFailed,
    LaunchOutcome,
    Outcome,
    Relaunched,
    RunOutcome,
    RunParams,
)

__all__ = ["Exit", "Output", "UsageError", "batch_label", "duration", "iso_utc", "plain"]

PROG = "codeocean-async"


class Exit(enum.IntEnum):
    """The command line's exit codes (``codeocean-async --help`` says when each is used)."""

    OK = 0
    NOT_SUCCEEDED = 1
    USAGE = 2
    API_ERROR = 3
    TIMEOUT = 4
    INTERRUPTED = 130
    TERMINATED = 143


class UsageError(Exception):
    """Input the command refuses before sending anything (exit code 2)."""


class Output:
    """Writes one command's results to ``out`` and its diagnostics to ``err``.

    In JSON mode ``out`` receives exactly one JSON document; progress lines go to ``err``.
    ``known`` is what the command started so far, for ``stopped``; ``reconciling`` whether its
    client reconciles uncertain launches (then the advice does not suggest it).
    """

    def __init__(self, out: TextIO, err: TextIO, *, json_mode: bool) -> None:
        self.out = out
        self.err = err
        self.json_mode = json_mode
        self.known = Known()
        self.reconciling = False

    def _write(self, stream: TextIO, text: str) -> None:
        stream.write(text + "\n")
        stream.flush()

    def line(self, text: str) -> None:
        """A line of human output (stdout)."""
        self._write(self.out, text)

    def document(self, model: Any) -> None:
        """The command's one JSON document (stdout)."""
        self.known.documented = True
        self._write(self.out, json.dumps(plain(model), indent=2))

    def stopped(self, code: int) -> None:
        """What a command stopped by a signal leaves behind: one line on stderr naming the
        computation it started or followed, or the run request that may or may not have
        started one; with ``--json``, the document of what is known (unless printed already).
        """
        line, doc = stop_summary(self.known, PROG)
        if self.json_mode and doc is not None and not self.known.documented:
            self.document(doc)
        word = "interrupted" if code == Exit.INTERRUPTED else "terminated"
        self.note(word + (f": {line}" if line else ""))

    def uncertain(self, params: RunParams, exc: LaunchUncertainError) -> None:
        """A run request that may or may not have started a computation: one line saying so
        and what to do; with ``--json``, the uncertain launch's document."""
        text = uncertain_text(exc, reconciled=self.reconciling)
        message = f"{text}: {uncertain_advice([params], PROG, reconciled=self.reconciling)}"
        if self.json_mode:
            self.document(uncertain_document(params, message, [c.id for c in exc.candidates]))
        self.error(message)

    def error(self, message: str) -> None:
        """One line on stderr, prefixed with the program name."""
        self._write(self.err, f"{PROG}: error: {one_line(message)}")

    def note(self, message: str) -> None:
        """One line on stderr, prefixed with the program name (not an error)."""
        self._write(self.err, f"{PROG}: {one_line(message)}")

    def event(self, text: str) -> None:
        """``HH:MM:SS  <text>``, at once: on stdout, or on stderr in JSON mode."""
        now = dt.datetime.now().strftime("%H:%M:%S")
        self._write(self.err if self.json_mode else self.out, f"{now}  {text}")

    def state(self, computation: Computation) -> None:
        """``HH:MM:SS  <id>  <state>`` (see ``event``)."""
        self.event(f"{computation.id}  {computation.state}")

    def batch_event(self, event: Event) -> None:
        """A line (see ``event``) for a batch's launches, failed launches, relaunches, ends."""
        if isinstance(event, Launched):
            self.event(f"spec {event.index}  {event.computation.id}  launched")
        elif isinstance(event, LaunchFailed):
            what = "launch uncertain" if event.uncertain else "launch failed"
            error = event.error
            if isinstance(error, LaunchUncertainError):
                text = uncertain_text(error, reconciled=self.reconciling)
            else:
                text = one_line(str(error))
            self.event(f"spec {event.index}  -  {what}: {text}")
        elif isinstance(event, Relaunched):
            c, previous = event.computation, event.previous.id
            self.event(f"spec {event.index}  {c.id}  relaunched ({previous} failed to start)")
        elif isinstance(event, Finished) and event.index is not None:
            c = event.computation
            self.event(f"spec {event.index}  {c.id}  finished: {c.outcome}")

    def cancelled(self, event: BatchCancelled) -> None:
        """What a cancelled (Ctrl-C) batch leaves behind, on stderr: the runs that keep running."""
        started = [cid for ids in event.started.values() for cid in ids]
        ids = ": " + ", ".join(started) if started else ""
        maybe = ", ".join(str(i) for i in event.in_flight)
        in_flight = (
            f"; specs {maybe} may or may not have started (check the capsule's computations)"
            if event.in_flight
            else ""
        )
        self.note(
            f"cancelled: {count(len(started), 'computation')} started and keep running{ids}"
            f"{in_flight}; {count(len(event.not_sent), 'spec')} never sent"
        )

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
                self.line(f"{key:<12} {one_line(value)}")

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
                one_line(c.name),
                str(c.state),
                str(c.outcome),
                iso_utc(c.created),
                duration(c.run_time),
            )
            for c in computations
        ]
        for text in table(headers, rows):
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

    def batch(self, outcomes: Sequence[LaunchOutcome | RunOutcome]) -> None:
        """A batch's end: one row per spec in input order, then counts per outcome; or JSON.

        The JSON is a list with one object per spec: ``index``, ``spec``, ``computation`` (with
        its ``outcome``, or null), ``attempts`` (every computation ID started for the spec),
        ``error`` (a string, or null) and ``uncertain``.
        """
        if self.json_mode:
            docs = [
                {
                    "index": o.index,
                    "spec": unstructure(o.spec),
                    "computation": None if o.computation is None else plain(o.computation),
                    "attempts": attempts_of(o),
                    "error": batch_error(o, reconciled=self.reconciling),
                    "uncertain": isinstance(o.error, LaunchUncertainError),
                }
                for o in outcomes
            ]
            self.known.documented = True
            self._write(self.out, json.dumps(docs, indent=2))
            self._advise(outcomes)
            return
        labels = [batch_label(o) for o in outcomes]
        if outcomes:
            headers = ("INDEX", "COMPUTATION", "OUTCOME", "ATTEMPTS")
            rows = [
                (
                    str(o.index),
                    o.computation.id if o.computation else "-",
                    label,
                    str(len(attempts_of(o))),
                )
                for o, label in zip(outcomes, labels, strict=True)
            ]
            for text in table(headers, rows):
                self.line(text)
        reconciled = self.reconciling
        errors = [
            (o.index, batch_error(o, reconciled=reconciled))
            for o in outcomes
            if o.error is not None
        ]
        for index, message in errors:
            self.line(f"spec {index}: {message}")
        counts = ", ".join(f"{label} {n}" for label, n in Counter(labels).most_common())
        self.line(count(len(outcomes), "spec") + (f": {counts}" if counts else ""))
        self._advise(outcomes)

    def _advise(self, outcomes: Sequence[LaunchOutcome | RunOutcome]) -> None:
        """Once for the batch, on stderr: what to do about its uncertain launches."""
        specs = [o.spec for o in outcomes if isinstance(o.error, LaunchUncertainError)]
        if specs:
            advice = uncertain_advice(specs, PROG, reconciled=self.reconciling)
            self.note(f"{count(len(specs), 'launch')} may or may not have started: {advice}")
