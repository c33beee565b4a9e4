"""Batch outcomes: one ``LaunchOutcome`` or ``RunOutcome`` per spec, assembled here alone.

From the launcher's record (each spec's first launch, every computation started, the 401 that
stopped the batch) and, for launch-and-wait, each spec's final computation and error. Also the
note a batch stopped by its ``on_event`` callback attaches to that callback's exception.
"""

from __future__ import annotations

from ._errors import CodeOceanError
from ._launcher import Launcher
from .models import Computation
from .models.batch import LaunchOutcome, RunOutcome

__all__ = ["launch_outcomes", "ledger_note", "run_outcomes"]


def launch_outcomes(launcher: Launcher) -> list[LaunchOutcome]:
    """One outcome per spec, in input order; specs never sent say so (``sent=False``), with
    the 401 that stopped the batch as their error."""
    outcomes = []
    for index, (spec, result) in enumerate(zip(launcher.specs, launcher.results, strict=True)):
        if isinstance(result, Computation):
            outcome = LaunchOutcome(index=index, spec=spec, computation=result)
        elif result is not None:
            outcome = LaunchOutcome(index=index, spec=spec, error=result)
        else:
            outcome = LaunchOutcome(index=index, spec=spec, sent=False, error=launcher.refused)
        outcomes.append(outcome)
    return outcomes


def run_outcomes(
    launcher: Launcher,
    finals: dict[int, Computation | None],
    errors: dict[int, CodeOceanError],
) -> list[RunOutcome]:
    """One outcome per spec of a launch-and-wait, in input order: the final computation (the
    last state seen when the batch stopped first), every computation tried, the error if any."""
    return [
        RunOutcome(
            index=index,
            spec=spec,
            computation=finals.get(index),
            attempts=tuple(launcher.started.get(index, ())),
            error=errors.get(index),
        )
        for index, spec in enumerate(launcher.specs)
    ]


def ledger_note(launcher: Launcher, what: str) -> str:
    """What a batch stopped by its ``on_event`` callback had done, for the callback's error."""
    outcomes = launch_outcomes(launcher)
    started = [(i, ids) for i, ids in sorted(launcher.started.items())]
    shown = ", ".join(f"spec {i}: {', '.join(ids)}" for i, ids in started[:20])
    uncertain = [o.index for o in outcomes if o.uncertain]
    never = sum(1 for o in outcomes if not o.sent)
    return (
        f"codeocean-async: on_event raised during {what}, which stopped launching: "
        f"{len(started)} specs started ({shown or 'none'}{', ...' if len(started) > 20 else ''}"
        f"; they keep running), {len(uncertain)} may or may not have started "
        f"{uncertain[:20]}, {never} never sent. Its `outcomes` attribute holds one per spec."
    )
