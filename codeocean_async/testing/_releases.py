"""The fake's release jobs: what a test plans for the next release, and each job's state as a
function of the fake's clock (created -> started -> completed, failed or canceled)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "RELEASE_OUTCOMES",
    "VALIDATION_FLAGS",
    "PlannedRelease",
    "ReleaseJob",
    "check_release_plan",
]

#: How a release job ends.
RELEASE_OUTCOMES = frozenset(("completed", "failed", "canceled"))

#: The flags of a refused release's 403 body (api.md §2, CapsuleReleaseValidationIssues).
VALIDATION_FLAGS = (
    "missing_reproducible_run",
    "uncommitted_files",
    "missing_metadata",
    "non_default_branch",
    "git_out_of_sync",
    "unreleased_pipeline_capsules",
    "missing_release_functionality",
    "invalid_app_panel",
    "unreleased_post_run_capsule",
)


@dataclass(frozen=True)
class PlannedRelease:
    """How the next release behaves: refused with ``issues`` (a 403 naming them), or a job that
    spends ``durations`` (created, started) seconds and ends with ``outcome`` (``error`` its
    reason when it fails)."""

    outcome: str = "completed"
    issues: tuple[str, ...] = ()
    durations: tuple[float, float] = (1.0, 1.0)
    error: str | None = None


def check_release_plan(
    outcome: str, issues: Iterable[str], durations: Iterable[float], error: str | None
) -> PlannedRelease:
    """A ``PlannedRelease``, each part checked (``ValueError`` naming what is wrong)."""
    if outcome not in RELEASE_OUTCOMES:
        raise ValueError(f"unknown release outcome {outcome!r}; one of {sorted(RELEASE_OUTCOMES)}")
    flags = tuple(issues)
    unknown = sorted(set(flags) - set(VALIDATION_FLAGS))
    if unknown:
        raise ValueError(f"unknown validation issues {unknown}; known: {list(VALIDATION_FLAGS)}")
    times = tuple(float(d) for d in durations)
    if len(times) != 2 or any(d < 0 for d in times):
        raise ValueError(f"durations must be two non-negative seconds, got {times!r}")
    if error is None and outcome == "failed":
        error = "the release build failed"
    return PlannedRelease(outcome, flags, (times[0], times[1]), error)


@dataclass
class ReleaseJob:
    """One release job of a capsule or pipeline (``parent_id``), started at clock time
    ``created_at`` (``started_epoch``: the same as epoch seconds)."""

    job_id: str
    parent_id: str
    created_at: float
    started_epoch: int
    plan: PlannedRelease
    release_capsule: str
    release_version: dict[str, Any]

    def render(self, now: float) -> dict[str, Any]:
        """The job's JSON at clock time ``now`` (zero values left out, as the server does)."""
        elapsed = now - self.created_at
        created, started = self.plan.durations
        body: dict[str, Any] = {"job_id": self.job_id}
        if elapsed < created:
            body["status"] = "created"
            return body
        body["started"] = self.started_epoch + int(created)
        if elapsed < created + started:
            body["status"] = "started"
            return body
        body["status"] = self.plan.outcome
        duration = int(started)
        if duration:
            body["duration"] = duration
        if self.plan.outcome == "completed":
            body["release_capsule"] = self.release_capsule
            body["release_version"] = self.release_version
        elif self.plan.error:
            body["error"] = self.plan.error
        return body
