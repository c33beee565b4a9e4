"""What the fake keeps about capsules and pipelines beyond their JSON: permissions, attached
data assets, App Panels, planned syncs and releases, release jobs; and the data assets
attached to cloud workstations."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ._records import DEFAULT_OWNER_EMAIL, Parent
from ._releases import PlannedRelease, ReleaseJob

__all__ = ["ParentExtras", "ParentsState"]


@dataclass
class ParentExtras:
    """One capsule's or pipeline's state beyond its JSON."""

    permissions: dict[str, Any]
    #: Attached data assets: ID to mount, in attach order.
    attached: dict[str, str] = field(default_factory=dict)
    #: App Panels seeded by version (``None``: the latest).
    app_panels: dict[int | None, dict[str, Any]] = field(default_factory=dict)


class ParentsState:
    """The fake's parent state, keyed by ID (the store's lock guards it)."""

    def __init__(self) -> None:
        self.extras: dict[str, ParentExtras] = {}
        #: The next releases' plans (FIFO); without one a release completes after 1 s + 1 s.
        self.releases: deque[PlannedRelease] = deque()
        #: The next syncs' results (FIFO); without one a sync answers ``{}``.
        self.syncs: deque[dict[str, Any]] = deque()
        self.jobs: dict[str, ReleaseJob] = {}

    def of(self, parent: Parent) -> ParentExtras:
        """The parent's extras, made on first use (its owner's e-mail as owner)."""
        extras = self.extras.get(parent.id)
        if extras is None:
            email = parent.json.get("owner_email") or DEFAULT_OWNER_EMAIL
            extras = ParentExtras(
                permissions={"users": [{"email": email, "role": "owner"}], "everyone": "none"}
            )
            self.extras[parent.id] = extras
        return extras

    def forget(self, parent: Parent) -> None:
        """A deleted parent's state and jobs."""
        self.extras.pop(parent.id, None)
        for job_id in [j.job_id for j in self.jobs.values() if j.parent_id == parent.id]:
            del self.jobs[job_id]

    def next_release(self) -> PlannedRelease:
        return self.releases.popleft() if self.releases else PlannedRelease()
