"""In-memory state of the fake Code Ocean: resources, computations, run plan and request log.

The records it keeps (a parent, a computation, a request) are defined in ``_records``.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from ._assets import AssetBook
from ._clock import Clock
from ._files import FileTrees
from ._parent_state import ParentsState
from ._records import (
    DEFAULT_OWNER,
    DEFAULT_OWNER_EMAIL,
    Computation,
    Durations,
    Parent,
    ParentFields,
    RecordedRequest,
    check_durations,
    check_outcome,
    release_version,
)
from ._storage import FakeStorage

__all__ = ["Store"]


class Store:
    """Everything the fake knows. Public methods hold a lock: a served fake runs in a thread."""

    def __init__(self, clock: Clock, base_time: int) -> None:
        self.clock = clock
        self.base_time = base_time
        self.lock = threading.RLock()
        self.parents: dict[str, dict[str, Parent]] = {"capsule": {}, "pipeline": {}}
        self.data_assets: dict[str, dict[str, Any]] = {}
        #: The data assets' states, permissions, archive flags, transfers; the metadata schema.
        self.assets = AssetBook()
        self.computations: dict[str, Computation] = {}
        self.created: list[str] = []
        self.plan: deque[tuple[str, Durations | None]] = deque()
        self.requests: list[RecordedRequest] = []
        #: Parents' permissions, attachments, panels and releases (``_routes_parents``).
        self.parents_state = ParentsState()
        #: Results and data asset files; their bytes on the storage host (``files.storage``).
        self.files = FileTrees(FakeStorage(clock))
        self._next_slug = 7_607_289

    def epoch(self) -> int:
        """Now, as the integer epoch seconds the API reports."""
        return int(self.base_time + self.clock.now())

    def find_parent(self, kind: str, parent_id: str) -> Parent | None:
        return self.parents[kind].get(parent_id)

    def add_parent(self, kind: str, fields: ParentFields, durations: Durations) -> Parent:
        """Store a capsule or pipeline (``kind``) from ``fields``; the defaults are here alone.

        ``durations`` is the fake's default for runs of a parent given no ``run_durations``.
        """
        unknown = sorted(set(fields) - set(ParentFields.__annotations__))
        if unknown:
            raise TypeError(f"add_{kind}() got unexpected keyword arguments {unknown}")
        with self.lock:
            new_id = fields.get("id") or str(uuid.uuid4())
            if new_id in self.parents["capsule"] or new_id in self.parents["pipeline"]:
                raise ValueError(f"a capsule or pipeline with id {new_id!r} already exists")
            slug = fields.get("slug")
            if slug is None:
                slug, self._next_slug = str(self._next_slug), self._next_slug + 1
            created = fields.get("created")
            created = self.epoch() if created is None else created
            name = fields.get("name", kind.title())
            body: dict[str, Any] = {"id": new_id, "created": created, "name": name}
            release_list = [release_version(v, created) for v in fields.get("versions", ())]
            body["status"] = "release" if release_list else "non_release"
            body["owner"] = fields.get("owner", DEFAULT_OWNER)
            owner_email = fields.get("owner_email", DEFAULT_OWNER_EMAIL)
            if owner_email is not None:
                body["owner_email"] = owner_email
            body["slug"] = slug
            for optional in ("description", "field"):
                value = fields.get(optional)
                if value is not None:
                    body[optional] = value
            body["tags"] = list(fields.get("tags", ()))
            if release_list:
                body["versions"] = release_list
            run_durations = fields.get("run_durations")
            parent = Parent(
                kind,
                body,
                check_outcome(fields.get("run_outcome", "succeeded")),
                check_durations(durations if run_durations is None else run_durations),
            )
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
