"""Releasing a capsule or pipeline: the release request, its job, and waiting on the job (a
mixin of the routes capsules and pipelines share)."""

from __future__ import annotations

from .._config import PollPolicy
from .._converter import structure
from .._errors import PermissionDeniedError, ReleaseFailedError, ReleaseValidationError
from .._ids import check_id
from .._operations import operation
from .._polling import Followed, StateFollower
from ..models.parent import Parent, ParentKind
from ..models.releases import CapsuleReleaseJob, CapsuleReleaseValidationIssues
from ._base import Resource

__all__ = ["RELEASE_JOB", "ReleaseRoutes", "release_refusal"]

#: What a wait on a release job follows: terminal on completed, failed and canceled.
RELEASE_JOB: Followed[CapsuleReleaseJob] = Followed(
    what="release job",
    cls=CapsuleReleaseJob,
    id_name="job_id",
    id_of=lambda job: job.job_id,
    state_of=lambda job: job.status,
    finished=lambda job: job.finished,
)


def release_refusal(exc: PermissionDeniedError, parent: Parent) -> ReleaseValidationError | None:
    """The ``ReleaseValidationError`` for a 403 whose body holds validation flags, else
    ``None`` (a 403 for another reason, a token without the scope, stays as it is)."""
    if not isinstance(exc.body, dict):
        return None
    try:
        issues = structure(exc.body, CapsuleReleaseValidationIssues)
    except ValueError:
        return None
    if not issues.flags:
        return None
    noun = parent.kind[:-1]
    return ReleaseValidationError(
        f"{noun} {parent.id} was not released; it needs " + "; ".join(issues.unmet),
        response=exc.response,
        body=exc.body,
        issues=issues,
    )


class ReleaseRoutes(Resource):
    """Release routes under ``/capsules`` or ``/pipelines`` (``_kind``)."""

    _kind: ParentKind

    async def release(self, id: str) -> CapsuleReleaseJob:
        """Release a new version (the first release is made in the app): the release job.

        Raises ``ReleaseValidationError`` (a ``PermissionDeniedError``) when the server names
        unmet requirements (``.issues``), and ``BadRequestError`` for one never released. Like
        a run, the request is never resent once it may have reached the server.
        ``POST /{capsules|pipelines}/{id}/release`` (Code Ocean 4.8 or later).
        """
        parent = Parent(self._kind, id)
        try:
            return await self._http.call(
                operation(f"{self._kind}.release"),
                path_params=parent.path_params,
                cast_to=CapsuleReleaseJob,
                idempotent=False,  # a second release would release another version
            )
        except PermissionDeniedError as exc:
            refused = release_refusal(exc, parent)
            if refused is None:
                raise
            raise refused from exc

    async def get_release_job(self, id: str, job_id: str) -> CapsuleReleaseJob:
        """A release job's current state. ``GET /{capsules|pipelines}/{id}/release/{job_id}``."""
        parent = Parent(self._kind, id)
        return await self._http.call(
            operation(f"{self._kind}.get_release_job"),
            path_params={**parent.path_params, "job_id": job_id},
            cast_to=CapsuleReleaseJob,
        )

    async def wait_until_release_completed(
        self,
        id: str,
        job: CapsuleReleaseJob | str,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        raise_on_failure: bool = True,
    ) -> CapsuleReleaseJob:
        """Wait until the release job ends (``completed``, ``failed`` or ``canceled``) and
        return its final state.

        ``job``: what ``release`` returned, or its ID. ``timeout``: seconds at most (``None``:
        as long as it takes; ``0``: one look); at the deadline ``WaitTimeoutError`` carries the
        last state seen (``.last``). ``poll``: the client's policy by default. A failed or
        canceled job raises ``ReleaseFailedError`` (``.job``, with its ``error``) unless
        ``raise_on_failure=False``.
        """
        check_id(id, Parent(self._kind, id).id_name)  # checked before the wait starts

        async def fetch(job_id: str) -> CapsuleReleaseJob:
            return await self.get_release_job(id, job_id)

        final: CapsuleReleaseJob | None = None
        follower = StateFollower(
            fetch, job, timeout=timeout, poll=poll or self._options.poll, followed=RELEASE_JOB
        )
        async for seen in follower:
            final = seen
        assert final is not None  # a follower yields at least once, and ends on a terminal state
        if raise_on_failure and not final.succeeded:
            why = f": {final.error}" if final.error else ""
            raise ReleaseFailedError(
                f"release job {final.job_id} of {self._kind[:-1]} {id} ended {final.status}{why}",
                job=final,
            )
        return final
