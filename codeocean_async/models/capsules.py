"""Capsule and pipeline metadata as the API returns it (pipelines share the capsule models)."""

from __future__ import annotations

import attrs

from ._enums import OpenEnum

__all__ = ["Article", "Capsule", "CapsuleStatus", "OriginalCapsuleInfo", "Submission", "Version"]


class CapsuleStatus(OpenEnum):
    """Whether a capsule has been released. Pre-3.1 statuses are read into these two."""

    NON_RELEASE = "non_release"
    RELEASE = "release"


@attrs.frozen(kw_only=True)
class Version:
    """One released version of a capsule or pipeline."""

    major_version: int
    minor_version: int = 0
    release_time: int | None = None
    doi: str | None = None


@attrs.frozen(kw_only=True)
class OriginalCapsuleInfo:
    """The capsule this one was duplicated from."""

    id: str | None = None
    major_version: int | None = None
    minor_version: int | None = None
    name: str | None = None
    created: int | None = None
    public: bool | None = None


@attrs.frozen(kw_only=True)
class Article:
    """The article a capsule accompanies."""

    url: str | None = None
    id: str | None = None
    doi: str | None = None
    citation: str | None = None
    state: str | None = None
    name: str | None = None
    journal_name: str | None = None
    publish_time: int | None = None


@attrs.frozen(kw_only=True)
class Submission:
    """A capsule's submission for verification."""

    timestamp: int | None = None
    commit: str | None = None
    verification_capsule: str | None = None
    verified: bool | None = None
    verified_timestamp: int | None = None


@attrs.frozen(kw_only=True)
class Capsule:
    """A capsule's (or a pipeline's) metadata: ``GET /capsules/{id}`` or ``GET /pipelines/{id}``.

    Legacy payloads are read into the current names: ``keywords`` into ``tags``,
    ``published_capsule`` into ``release_capsule``, and the pre-3.1 statuses into ``status``.
    """

    id: str
    name: str
    created: int
    status: CapsuleStatus | None = None
    owner: str | None = None
    owner_email: str | None = None
    slug: str | None = None
    description: str | None = None
    field: str | None = None
    tags: tuple[str, ...] | None = None
    cloned_from_url: str | None = None
    release_capsule: str | None = None
    last_accessed: int | None = None
    original_capsule: OriginalCapsuleInfo | None = None
    article: Article | None = None
    submission: Submission | None = None
    versions: tuple[Version, ...] | None = None

    @property
    def latest_version(self) -> Version | None:
        """The newest released version, or ``None`` for a capsule never released."""
        if not self.versions:
            return None
        return max(self.versions, key=lambda v: (v.major_version, v.minor_version))
