"""In-memory state of the fake Code Ocean: resources, computations, run plan and request log."""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._clock import Clock

__all__ = [
    "DEFAULT_OWNER",
    "DEFAULT_OWNER_EMAIL",
    "OUTCOMES",
    "Computation",
    "Durations",
    "Parent",
    "RecordedRequest",
    "Store",
    "check_durations",
    "check_outcome",
]

Durations = tuple[float, float, float]

DEFAULT_OWNER = "467ef120-2c93-42eb-8865-5866004243bf"
DEFAULT_OWNER_EMAIL = "owner@example.com"

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


class Store:
    """Everything the fake knows. Public methods hold a lock: a served fake runs in a thread."""

    def __init__(self, clock: Clock, base_time: int) -> None:
        self.clock = clock
        self.base_time = base_time
        self.lock = threading.RLock()
        self.parents: dict[str, dict[str, Parent]] = {"capsule": {}, "pipeline": {}}
        self.data_assets: dict[str, dict[str, Any]] = {}
        self.computations: dict[str, Computation] = {}
        self.created: list[str] = []
        self.plan: deque[tuple[str, Durations | None]] = deque()
        self.requests: list[RecordedRequest] = []
        self._next_slug = 7_607_289

    def epoch(self) -> int:
        """Now, as the integer epoch seconds the API reports."""
        return int(self.base_time + self.clock.now())

    def find_parent(self, kind: str, parent_id: str) -> Parent | None:
        return self.parents[kind].get(parent_id)

    def add_parent(
        self,
        kind: str,
        *,
        id: str | None,
        name: str,
        slug: str | None,
        versions: Iterable[int | Mapping[str, Any]],
        owner: str,
        owner_email: str | None,
        description: str | None,
        field: str | None,
        tags: Iterable[str],
        created: int | None,
        run_outcome: str,
        run_durations: Iterable[float],
    ) -> Parent:
        with self.lock:
            new_id = id or str(uuid.uuid4())
            if new_id in self.parents["capsule"] or new_id in self.parents["pipeline"]:
                raise ValueError(f"a capsule or pipeline with id {new_id!r} already exists")
            if slug is None:
                slug, self._next_slug = str(self._next_slug), self._next_slug + 1
            created = self.epoch() if created is None else created
            body: dict[str, Any] = {"id": new_id, "created": created, "name": name}
            release_list = [_version(v, created) for v in versions]
            body["status"] = "release" if release_list else "non_release"
            body["owner"] = owner
            if owner_email is not None:
                body["owner_email"] = owner_email
            body["slug"] = slug
            if description is not None:
                body["description"] = description
            if field is not None:
                body["field"] = field
            body["tags"] = list(tags)
            if release_list:
                body["versions"] = release_list
            parent = Parent(kind, body, check_outcome(run_outcome), check_durations(run_durations))
            self.parents[kind][new_id] = parent
            return parent

    def add_data_asset(self, *, id: str | None, name: str, mount: str) -> dict[str, Any]:
        with self.lock:
            new_id = id or str(uuid.uuid4())
            asset = {
                "id": new_id,
                "created": self.epoch(),
                "name": name,
                "mount": mount,
                "last_used": 0,
                "owner": DEFAULT_OWNER,
                "owner_email": DEFAULT_OWNER_EMAIL,
                "state": "ready",
                "type": "dataset",
                "tags": [],
            }
            self.data_assets[new_id] = asset
            return asset

    def take_plan(self, parent: Parent) -> tuple[str, Durations]:
        """Pop the next planned run (or use the parent's defaults) for a new computation."""
        with self.lock:
            outcome, durations = self.plan.popleft() if self.plan else (parent.run_outcome, None)
            return outcome, durations or parent.run_durations

    def add_computation(
        self,
        parent: Parent | None,
        *,
        outcome: str,
        durations: Iterable[float],
        fields: Mapping[str, Any],
        overrides: Mapping[str, Any] | None = None,
    ) -> Computation:
        """Register a computation created now; ``fields`` come after the standard ones."""
        with self.lock:
            now = self.clock.now()
            created = self.epoch()
            overrides = overrides or {}
            new_id = str(overrides.get("id") or uuid.uuid4())
            if new_id in self.computations:
                raise ValueError(f"a computation with id {new_id!r} already exists")
            base: dict[str, Any] = {
                "id": new_id,
                "created": created,
                "name": f"Run {created % 10_000_000:07d}",
                "owner": DEFAULT_OWNER,
                "owner_email": DEFAULT_OWNER_EMAIL,
                "cloud_workstation": False,
            }
            base.update(fields)
            extra = {k: v for k, v in overrides.items() if k != "id"}
            comp = Computation(
                new_id, now, base, check_outcome(outcome), check_durations(durations), parent, extra
            )
            self.computations[new_id] = comp
            return comp

    def render(self, comp: Computation) -> dict[str, Any]:
        return comp.render(self.clock.now())

    def list_for(self, parent: Parent) -> list[dict[str, Any]]:
        """The parent's computations, oldest first, in their current state."""
        with self.lock:
            return [self.render(c) for c in self.computations.values() if c.parent is parent]

    def stop_or_remove(self, comp: Computation) -> None:
        """DELETE semantics: stop a computation still in progress; remove a finished one."""
        with self.lock:
            now = self.clock.now()
            if comp.is_terminal(now):
                self.computations.pop(comp.id, None)
            else:
                comp.stopped_at = now


def _version(value: int | Mapping[str, Any], created: int) -> dict[str, Any]:
    """A capsule release version: an int N means version N.0 released N days after creation."""
    if isinstance(value, Mapping):
        return dict(value)
    return {"major_version": value, "minor_version": 0, "release_time": created + value * 86_400}
