"""Releasing a capsule or pipeline and syncing it with Git: the release job, the validation
issues a refused release names, and a sync's results."""

from __future__ import annotations

import attrs

from ._enums import OpenEnum
from .capsules import Version

__all__ = [
    "CapsuleReleaseJob",
    "CapsuleReleaseJobStatus",
    "CapsuleReleaseValidationIssues",
    "GitSyncResults",
]


class CapsuleReleaseJobStatus(OpenEnum):
    """Where a release job is: ``completed``, ``failed`` and ``canceled`` end it
    (``canceling`` does not)."""

    CREATED = "created"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"
    CANCELING = "canceling"


_TERMINAL = frozenset(
    (
        CapsuleReleaseJobStatus.COMPLETED,
        CapsuleReleaseJobStatus.FAILED,
        CapsuleReleaseJobStatus.CANCELED,
    )
)


@attrs.frozen(kw_only=True)
class CapsuleReleaseJob:
    """A release in progress or done: ``POST .../release`` and ``GET .../release/{job_id}``.

    Once ``completed``, ``release_capsule`` is the released copy and ``release_version`` its
    version; a ``failed`` job says why in ``error``.
    """

    job_id: str
    status: CapsuleReleaseJobStatus
    started: int | None = None
    duration: int | None = None
    release_capsule: str | None = None
    release_version: Version | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        """Whether the job has ended (completed, failed or canceled)."""
        return self.status in _TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == CapsuleReleaseJobStatus.COMPLETED


#: Each validation flag and the requirement it says is unmet, in plain words.
_REQUIREMENTS = {
    "missing_reproducible_run": "a reproducible run of the latest code",
    "uncommitted_files": "every file committed",
    "missing_metadata": "the required metadata filled in",
    "non_default_branch": "the default Git branch checked out",
    "git_out_of_sync": "the Git repository in sync with its remote",
    "unreleased_pipeline_capsules": "every capsule of the pipeline released",
    "missing_release_functionality": "the release feature enabled for it",
    "invalid_app_panel": "a valid App Panel",
    "unreleased_post_run_capsule": "its post-run capsule released",
}


@attrs.frozen(kw_only=True)
class CapsuleReleaseValidationIssues:
    """Why a release was refused (the 403's body): each flag is ``True`` when that requirement
    is unmet; the server sends only those (the others are ``None``)."""

    missing_reproducible_run: bool | None = None
    uncommitted_files: bool | None = None
    missing_metadata: bool | None = None
    non_default_branch: bool | None = None
    git_out_of_sync: bool | None = None
    unreleased_pipeline_capsules: bool | None = None
    missing_release_functionality: bool | None = None
    invalid_app_panel: bool | None = None
    unreleased_post_run_capsule: bool | None = None

    @property
    def flags(self) -> tuple[str, ...]:
        """The names of the flags set, in the order the API documents them."""
        return tuple(name for name in _REQUIREMENTS if getattr(self, name))

    @property
    def unmet(self) -> tuple[str, ...]:
        """Each unmet requirement in plain words ("every file committed", ...)."""
        return tuple(_REQUIREMENTS[name] for name in self.flags)


@attrs.frozen(kw_only=True)
class GitSyncResults:
    """What syncing with the linked Git repository did (zero values may be absent: ``{}`` is
    nothing pushed, nothing pulled, no new branch)."""

    pushed: int = 0
    pulled: int = 0
    new_branch: bool = False
