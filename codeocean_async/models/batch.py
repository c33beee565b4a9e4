"""What batches report: one outcome per spec, and the typed events they emit along the way."""

from __future__ import annotations

import attrs

from .._errors import CodeOceanError, LaunchUncertainError
from .computations import Computation, Outcome
from .run_params import RunParams

__all__ = [
    "BatchCancelled",
    "Event",
    "Finished",
    "LaunchFailed",
    "LaunchOutcome",
    "LaunchRetried",
    "Launched",
    "Relaunched",
    "RunOutcome",
    "StateChanged",
]


@attrs.frozen(kw_only=True)
class LaunchOutcome:
    """How one spec of ``run_many`` fared: its ``computation``, or its ``error``, or never sent.

    ``index`` is the spec's position in the input. ``uncertain`` is true when the launch may or
    may not have started a computation (``error`` is a ``LaunchUncertainError``); ``sent`` is
    false for specs ``fail_fast`` stopped before they were sent.
    """

    index: int
    spec: RunParams
    computation: Computation | None = None
    error: CodeOceanError | None = None
    sent: bool = True

    @property
    def ok(self) -> bool:
        """Whether the computation started (and is known)."""
        return self.computation is not None

    @property
    def uncertain(self) -> bool:
        """Whether the launch may or may not have started a computation."""
        return isinstance(self.error, LaunchUncertainError)


@attrs.frozen(kw_only=True)
class RunOutcome:
    """How one spec of ``run_and_wait_many`` ended.

    ``computation`` is the last one started for the spec, in its final state (or the last state
    seen, if the wait ran out of time); ``attempts`` holds the ID of every computation started for
    the spec, relaunches included; ``error`` says what went wrong outside the run itself (a launch
    refused or uncertain, a wait past its deadline, a run that could no longer be read).
    """

    index: int
    spec: RunParams
    computation: Computation | None = None
    attempts: tuple[str, ...] = ()
    error: CodeOceanError | None = None

    @property
    def outcome(self) -> Outcome | None:
        """The computation's verdict, or ``None`` when no computation is known."""
        return None if self.computation is None else self.computation.outcome

    @property
    def succeeded(self) -> bool:
        """Whether the run finished and succeeded."""
        return self.outcome is Outcome.SUCCEEDED


@attrs.frozen(kw_only=True)
class Launched:
    """A spec's computation started (``index`` is the spec's position)."""

    index: int
    computation: Computation


@attrs.frozen(kw_only=True)
class LaunchRetried:
    """A launch request is retried after ``delay`` seconds (a 429, or a connection never made)."""

    index: int
    reason: str
    delay: float
    attempt: int


@attrs.frozen(kw_only=True)
class LaunchFailed:
    """A spec could not be launched; ``uncertain`` when it may have started anyway."""

    index: int
    error: CodeOceanError
    uncertain: bool


@attrs.frozen(kw_only=True)
class StateChanged:
    """A waited computation was seen in a new state (``previous`` is ``None`` the first time)."""

    index: int | None
    computation: Computation
    previous: str | None


@attrs.frozen(kw_only=True)
class Finished:
    """A waited computation finished; ``computation.outcome`` is the verdict."""

    index: int | None
    computation: Computation


@attrs.frozen(kw_only=True)
class Relaunched:
    """A failed start was launched again: ``previous`` did not start, ``computation`` did."""

    index: int
    previous: Computation
    computation: Computation


@attrs.frozen(kw_only=True)
class BatchCancelled:
    """The batch was cancelled from outside: what had started, and what was never sent.

    ``started`` maps each spec index to the computations started for it; those keep running.
    ``in_flight`` are the specs whose run request was on its way: they may or may not have
    started a computation (check the capsule's computations). ``not_sent`` were never sent.
    """

    started: dict[int, tuple[str, ...]]
    in_flight: tuple[int, ...]
    not_sent: tuple[int, ...]


#: Every event a batch emits, to its ``on_event`` callback.
Event = (
    Launched | LaunchRetried | LaunchFailed | StateChanged | Finished | Relaunched | BatchCancelled
)
