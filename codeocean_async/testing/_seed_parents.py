"""FakeCodeOcean's seeding and inspection of capsules' and pipelines' extras: planned releases
and syncs, App Panels, attached data assets (a mixin of ``FakeCodeOcean``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ._records import Parent
from ._releases import check_release_plan
from ._store import Store

__all__ = ["ParentSeeding"]


class ParentSeeding:
    """What a test plans for capsules and pipelines beyond their JSON."""

    _store: Store

    def _find(self, parent_id: str) -> Parent:
        for kind in ("capsule", "pipeline"):
            parent = self._store.find_parent(kind, parent_id)
            if parent is not None:
                return parent
        raise ValueError(f"no capsule or pipeline with id {parent_id!r}")

    def plan_release(
        self,
        *,
        outcome: str = "completed",
        issues: Iterable[str] = (),
        durations: Iterable[float] = (1.0, 1.0),
        error: str | None = None,
    ) -> None:
        """Queue how the next release (of any capsule or pipeline) behaves (FIFO).

        ``issues``: validation flags (``"uncommitted_files"``, ...): the release is refused
        with a 403 whose body holds them. Otherwise a job that is ``created`` for
        ``durations[0]`` seconds, ``started`` for ``durations[1]``, then ends with ``outcome``
        (``completed``, ``failed`` with ``error``, or ``canceled``). Without a plan a release
        completes after 1 s + 1 s. A capsule never released answers 400 whatever the plan.
        """
        plan = check_release_plan(outcome, issues, durations, error)
        with self._store.lock:
            self._store.parents_state.releases.append(plan)

    def plan_sync(self, *, pushed: int = 0, pulled: int = 0, new_branch: bool = False) -> None:
        """Queue the next Git sync's results (FIFO; zero values are left out of the answer, as
        the server does; without a plan a sync answers ``{}``)."""
        body = {"pushed": pushed, "pulled": pulled, "new_branch": new_branch}
        with self._store.lock:
            self._store.parents_state.syncs.append({k: v for k, v in body.items() if v})

    def set_app_panel(
        self, parent_id: str, panel: Mapping[str, Any], *, version: int | None = None
    ) -> None:
        """Serve ``panel`` (its JSON) as the App Panel of a capsule or pipeline, for one
        released ``version`` or (``None``) for the latest and every version without its own.
        Without one, the panel holds the title and the attached data assets."""
        with self._store.lock:
            parent = self._find(parent_id)
            if version is not None and version not in parent.major_versions:
                raise ValueError(f"{version} is not a released version of {parent_id}")
            extras = self._store.parents_state.of(parent)
            extras.app_panels[version] = json.loads(json.dumps(panel))

    def attached_data_assets(self, parent_id: str) -> dict[str, str]:
        """The data assets attached to a capsule or pipeline: ID to mount, in attach order."""
        with self._store.lock:
            return dict(self._store.parents_state.of(self._find(parent_id)).attached)
