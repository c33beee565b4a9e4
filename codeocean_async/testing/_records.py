"""What the fake keeps: a capsule or pipeline, a computation, a request; the checks on seeds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

__all__ = [
    "DEFAULT_OWNER",
    "DEFAULT_OWNER_EMAIL",
    "OUTCOMES",
    "Computation",
    "Durations",
    "Parent",
    "ParentFields",
    "RecordedRequest",
    "check_durations",
    "check_outcome",
    "release_version",
]

Durations = tuple[float, float, float]

DEFAULT_OWNER = "467ef120-2c93-42eb-8865-5866004243bf"
DEFAULT_OWNER_EMAIL = "owner@example.com"


class ParentFields(TypedDict, total=False):
    """What ``add_capsule`` and ``add_pipeline`` take, every field optional (the defaults are
    applied in ``Store.add_parent``)."""

    id: str | None
    name: str
    slug: str | None
    versions: Iterable[int | Mapping[str, Any]]
    owner: str
    owner_email: str | None
    description: str | None
    field: str | None
    tags: Iterable[str]
    created: int | None
    run_outcome: str
    run_durations: Iterable[float] | None


# What a computation looks like once it has ended, per planned outcome.
_TERMINAL: dict[str, dict[str, Any]] = {
    "succeeded": {"state": "completed", "end_status": "succeeded", "exit_code": 0},
    "failed": {"state": "completed", "end_status": "failed", "exit_code": 1},
    "stopped": {"state": "completed", "end_status": "stopped"},
    "failed_start": {"state": "completed", "end_status": "failed", "exit_code": 0},
    "state_failed": {"state": "failed", "end_status": "failed"},
}
for _outcome, _status in _TERMINAL.items():
    _status["has_results"] = _outcome in ("succeeded", "failed", "stopped")
OUTCOMES = frozenset(_TERMINAL)


def check_outcome(outcome: str) -> str:
    """Return ``outcome`` if it is one the fake knows, else raise ``ValueError``."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of {sorted(OUTCOMES)}")
    return outcome


def check_durations(durations: Iterable[float]) -> Durations:
    """Return three non-negative phase durations (initializing, running, finalizing)."""
    values = tuple(float(d) for d in durations)
    if len(values) != 3 or any(d < 0 for d in values):
        raise ValueError(f"durations must be three non-negative seconds, got {values!r}")
    return (values[0], values[1], values[2])


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received. The Authorization value is never kept, only ``auth_ok``.

    ``fault`` is the kind of the fault the fake applied to it (``"drop_after"``...), or None.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    auth_ok: bool
    body: Any
    fault: str | None = None


@dataclass
class Parent:
    """A capsule or a pipeline: its served JSON and the defaults of the runs it starts."""

    kind: str  # "capsule" or "pipeline"
    json: dict[str, Any]
    run_outcome: str
    run_durations: Durations

    @property
    def id(self) -> str:
        return str(self.json["id"])

    @property
    def major_versions(self) -> set[int]:
        return {int(v["major_version"]) for v in self.json.get("versions", ())}


@dataclass
class Computation:
    """One computation: fixed fields plus a state that is a function of the clock."""

    id: str
    created_at: float
    fields: dict[str, Any]  # id, created, name, owner, ... : what never changes by itself
    outcome: str
    durations: Durations
    parent: Parent | None
    overrides: dict[str, Any] = field(default_factory=dict)
    stopped_at: float | None = None

    def _elapsed(self, now: float) -> float:
        end = now if self.stopped_at is None else min(now, self.stopped_at)
        return end - self.created_at

    def is_terminal(self, now: float) -> bool:
        if self.stopped_at is not None:
            return True
        init, run, fin = self.durations
        total = init if self.outcome == "failed_start" else init + run + fin
        return self._elapsed(now) >= total

    def render(self, now: float) -> dict[str, Any]:
        """The JSON the API returns for this computation at clock time ``now``."""
        elapsed = self._elapsed(now)
        init, run, _ = self.durations
        run_time = 0 if self.outcome == "failed_start" else int(min(max(elapsed - init, 0), run))
        body = dict(self.fields)
        status: dict[str, Any]
        if self.stopped_at is not None:
            status = _TERMINAL["stopped"]
        elif self.is_terminal(now):
            status = _TERMINAL[self.outcome]
        elif elapsed < init:
            status = {"state": "initializing", "has_results": False}
        elif elapsed < init + run:
            status = {"state": "running", "has_results": False}
        else:
            status = {"state": "finalizing", "has_results": False}
        ordered = {k: body.pop(k) for k in ("id", "created", "name", "owner", "owner_email")}
        ordered["run_time"] = run_time
        ordered.update(status)
        ordered.update(body)
        ordered.update(self.overrides)
        return ordered


def release_version(value: int | Mapping[str, Any], created: int) -> dict[str, Any]:
    """A capsule release version: an int N means version N.0 released N days after creation."""
    if isinstance(value, Mapping):
        return dict(value)
    return {"major_version": value, "minor_version": 0, "release_time": created + value * 86_400}
