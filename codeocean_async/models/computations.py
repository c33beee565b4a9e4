"""Computations (runs of a capsule or pipeline), their states and the canonical outcome verdict."""

from __future__ import annotations

import enum

import attrs

from ._enums import OpenEnum

__all__ = [
    "Computation",
    "ComputationEndStatus",
    "ComputationState",
    "InputDataAsset",
    "Outcome",
    "Param",
    "PipelineProcess",
]


class ComputationState(OpenEnum):
    """Where a computation is in its life: initializing -> running -> finalizing -> completed.

    ``failed`` is terminal too. ``completed`` alone does not mean success: see
    :attr:`Computation.outcome`.
    """

    INITIALIZING = "initializing"
    RUNNING = "running"
    FINALIZING = "finalizing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """Whether the computation can no longer change state."""
        return self in _TERMINAL_STATES


_TERMINAL_STATES = frozenset({ComputationState.COMPLETED, ComputationState.FAILED})


class ComputationEndStatus(OpenEnum):
    """How a finished computation ended, as the server reports it."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


class Outcome(str, enum.Enum):
    """The canonical verdict on a computation, derived from state, end status, exit code, results.

    - ``SUCCEEDED``: completed, end status succeeded and exit code 0 (or none).
    - ``FAILED``: the state is failed, or the end status is failed, or the exit code is non-zero,
      or the end status is one this SDK does not know.
    - ``STOPPED``: stopped before it finished (``DELETE /computations/{id}`` or the app).
    - ``FAILED_START``: completed with end status failed, exit code 0 or none, and no results: the
      run never started (usually no machine was available). Relaunching is reasonable.
    - ``NOT_FINISHED``: still initializing, running or finalizing (or in a state this SDK does not
      know yet, which it treats as not terminal).
    """

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"
    FAILED_START = "failed_start"
    NOT_FINISHED = "not_finished"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class InputDataAsset:
    """A data asset attached to a computation, and where it was mounted."""

    id: str
    mount: str | None = None


@attrs.frozen(kw_only=True)
class Param:
    """A parameter a computation ran with: ``name`` is the label, ``param_name`` the named key."""

    name: str | None = None
    param_name: str | None = None
    value: str | None = None


@attrs.frozen(kw_only=True)
class PipelineProcess:
    """One capsule in a pipeline run, as named in the pipeline's ``main.nf``."""

    name: str
    capsule_id: str | None = None
    version: int | None = None
    public: bool | None = None
    parameters: tuple[Param, ...] | None = None


@attrs.frozen(kw_only=True)
class Computation:
    """A run of a capsule or pipeline: ``GET /computations/{id}``, and what ``run`` returns."""

    id: str
    created: int
    state: ComputationState
    name: str = ""
    run_time: int = 0
    owner: str | None = None
    owner_email: str | None = None
    end_status: ComputationEndStatus | None = None
    exit_code: int | None = None
    has_results: bool | None = None
    cloud_workstation: bool | None = None
    data_assets: tuple[InputDataAsset, ...] | None = None
    parameters: tuple[Param, ...] | None = None
    nextflow_profile: str | None = None
    processes: tuple[PipelineProcess, ...] | None = None

    @property
    def finished(self) -> bool:
        """Whether the state is terminal (``completed`` or ``failed``)."""
        return self.state.terminal

    @property
    def outcome(self) -> Outcome:
        """The canonical verdict: see :class:`Outcome`. ``state == completed`` is not success."""
        if not self.state.terminal:
            return Outcome.NOT_FINISHED
        if self.state is ComputationState.FAILED:
            return Outcome.FAILED
        end = self.end_status
        if end is ComputationEndStatus.STOPPED:
            return Outcome.STOPPED
        clean_exit = self.exit_code in (None, 0)
        if end is ComputationEndStatus.FAILED:
            # A failed start: no machine ever ran the code, so no results and no real exit code.
            return Outcome.FAILED_START if clean_exit and not self.has_results else Outcome.FAILED
        if end is ComputationEndStatus.SUCCEEDED or end is None:
            return Outcome.SUCCEEDED if clean_exit else Outcome.FAILED
        return Outcome.FAILED  # an end status this SDK does not know: never call it success
