"""Computation routes: get, run (the three variants and pipelines), stop, rename, and waiting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from .._config import OnUncertain, PollPolicy
from .._operations import operation
from .._polling import OnUpdate, StateFollower, States, follow_to_end, wait_until_finished
from .._shared_waits import SharedFollower
from ..models import (
    Computation,
    DataAssetsRunParam,
    NamedRunParam,
    PipelineProcessParams,
    RunParams,
)
from ..models.parent import Parent
from ..models.run_params import check_run_ids
from ..models.shared import DataAssetAttachParams, DataAssetAttachResults
from ._attach import attach, detach
from ._routes import get_computation, start_run
from .batches import Batches
from .files import ComputationResults

__all__ = ["Computations", "check_run_ids"]

#: The keywords of ``run`` that are a ``RunParams``'s fields (the model lists them).
_RUN_FIELDS = frozenset(field.name for field in attrs.fields(RunParams))


class Computations(Batches, ComputationResults):
    """``client.computations``: start runs, follow them, stop and rename them; batches of them."""

    async def get(self, computation_id: str) -> Computation:
        """The computation's current state. ``GET /computations/{computation_id}``.

        An answer about another computation (another ``id``) is a ``ResponseValidationError``.
        """
        return await get_computation(self._http, computation_id)

    async def run(
        self,
        params: RunParams | None = None,
        *,
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
        version: int | None = None,
        data_assets: Iterable[DataAssetsRunParam | str] | None = None,
        parameters: Iterable[str] | None = None,
        named_parameters: Mapping[str, str] | Iterable[NamedRunParam] | None = None,
        processes: Iterable[PipelineProcessParams] | None = None,
        nextflow_profile: str | None = None,
        resume_run_id: str | None = None,
        on_uncertain: OnUncertain | None = None,
    ) -> Computation:
        """Start a computation and return it (usually still ``initializing``).

        The three capsule variants are each one call::

            await client.computations.run(capsule_id=cid)                  # latest code
            await client.computations.run(capsule_id=cid, version=3)       # a released version
            await client.computations.run(capsule_id=cid, data_assets=[DataAssetsRunParam(aid)])

        Pipelines take ``pipeline_id`` (and ``processes``, ``nextflow_profile``). A prepared
        ``RunParams`` may be passed instead of the keywords. Exactly one of ``capsule_id`` and
        ``pipeline_id`` is required; anything else is refused before a request is sent.

        The request is never resent once it may have reached the server. When it may or may not
        have started a computation (a dropped connection, a timeout, a 5xx), ``on_uncertain``
        decides: ``"raise"`` raises ``LaunchUncertainError``; ``"reconcile"`` looks for the
        computation it started in the capsule's (or pipeline's) computation list and returns it,
        or raises if there is none. The client's ``on_uncertain`` is the default.
        ``POST /computations``.
        """
        given = locals()  # the keywords passed, by the names of the signature (listed once)
        fields = {name: given[name] for name in _RUN_FIELDS if given[name] is not None}
        if params is None:
            params = RunParams(**fields)
        elif not isinstance(params, RunParams):
            raise TypeError(f"params must be a RunParams, not {type(params).__name__}")
        elif fields:
            raise ValueError("pass either a RunParams or keyword arguments, not both")
        check_run_ids(params)
        return await start_run(self._bound, params, on_uncertain)

    async def delete(self, computation_id: str) -> None:
        """Stop the computation if it is running (a finished one is deleted).

        Not retried once the request may have reached the server: a second ``DELETE`` would
        delete the computation the first one stopped. ``DELETE /computations/{computation_id}``.
        """
        await self._http.call(
            operation("computations.delete"),
            path_params={"computation_id": computation_id},
            # Not resent once it may have arrived: a second DELETE would delete the run it stopped.
            idempotent=False,
        )

    async def rename(self, computation_id: str, *, name: str) -> None:
        """Give the computation a new display name. ``PATCH /computations/{id}?name=...``."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("name must be a non-empty string")
        await self._http.call(
            operation("computations.rename"),
            path_params={"computation_id": computation_id},
            params={"name": name},
        )

    async def attach_data_assets(
        self, computation_id: str, data_assets: Iterable[DataAssetAttachParams | str]
    ) -> list[DataAssetAttachResults]:
        """Attach data assets to a cloud workstation session (``"ID"``, ``"ID:MOUNT"`` or
        ``DataAssetAttachParams``); what each attach did.
        ``POST /computations/{computation_id}/data_assets`` (Code Ocean 4.2 or later)."""
        return await attach(
            self._http,
            operation("computations.attach_data_assets"),
            {"computation_id": computation_id},
            data_assets,
        )

    async def detach_data_assets(self, computation_id: str, data_asset_ids: Iterable[str]) -> None:
        """Detach data assets from a cloud workstation session by ID (at least one).
        ``DELETE /computations/{computation_id}/data_assets/`` with the IDs as a JSON array."""
        await detach(
            self._http,
            operation("computations.detach_data_assets"),
            {"computation_id": computation_id},
            data_asset_ids,
        )

    async def wait_for_completion(
        self,
        computation: Computation | str,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        raise_on_failure: bool = False,
        on_update: OnUpdate | None = None,
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
    ) -> Computation:
        """Wait until the computation is ``completed`` or ``failed`` and return its final state.

        Args:
            computation: a ``Computation`` (e.g. what ``run`` returned) or its ID.
            timeout: seconds to wait at most; ``None`` waits as long as it takes. At the deadline
                ``WaitTimeoutError`` is raised carrying the last state seen; the computation keeps
                running (stop it with ``delete`` if that is what you want). ``0`` is one look:
                the computation if it is finished, else ``WaitTimeoutError`` carrying it.
            poll: the polling schedule; the client's ``poll`` policy by default.
            raise_on_failure: raise ``ComputationFailedError`` for every outcome but
                ``Outcome.SUCCEEDED`` (failed, stopped, failed start).
            on_update: called (or awaited) with the computation at each state change, starting
                with the first state seen.
            capsule_id, pipeline_id: the capsule or pipeline of a run this client did not start
                (so the shared loop can list it with its siblings instead of polling it alone).

        Every wait of a client (and of its ``with_options`` copies) shares one poll loop: runs
        of one capsule are polled with one listing per tick however many tasks wait on them,
        each wait keeping its own deadline, schedule and cancellation (see the README's
        "Many waits, one poll loop"). A cancelled task or an outer ``anyio.fail_after`` stops
        the wait at once, and only that wait.
        """
        poll = poll or self._options.poll
        if timeout == 0 or (isinstance(computation, Computation) and computation.finished):
            # One look, or nothing to wait for: no loop to share.
            return await wait_until_finished(
                self.get,
                computation,
                timeout=timeout,
                poll=poll,
                raise_on_failure=raise_on_failure,
                on_update=on_update,
            )
        states = self._shared(
            computation, timeout, poll, capsule_id, pipeline_id, wants_states=bool(on_update)
        )
        return await follow_to_end(states, raise_on_failure=raise_on_failure, on_update=on_update)

    def watch(
        self,
        computation: Computation | str,
        *,
        timeout: float | None = None,
        poll: PollPolicy | None = None,
        capsule_id: str | None = None,
        pipeline_id: str | None = None,
    ) -> States:
        """Iterate over the computation's state changes until it finishes::

            async for c in client.computations.watch(computation):
                print(c.state)

        Yields the first state seen, then each change, ending with the terminal state. Raises
        ``WaitTimeoutError`` at the deadline, as ``wait_for_completion`` does; ``timeout`` counts
        from this call, not from the first step of the loop. It shares the client's poll loop as
        ``wait_for_completion`` does (``capsule_id`` / ``pipeline_id`` likewise).
        """
        poll = poll or self._options.poll
        if timeout == 0 or (isinstance(computation, Computation) and computation.finished):
            return StateFollower(self.get, computation, timeout=timeout, poll=poll)
        return self._shared(computation, timeout, poll, capsule_id, pipeline_id)

    def _shared(
        self,
        computation: Computation | str,
        timeout: float | None,
        poll: PollPolicy,
        capsule_id: str | None,
        pipeline_id: str | None,
        wants_states: bool = True,
    ) -> SharedFollower:
        return SharedFollower(
            self._bound.waits,
            computation,
            readers=self._readers(),
            parent=Parent.given(capsule_id=capsule_id, pipeline_id=pipeline_id),
            timeout=timeout,
            poll=poll,
            wants_states=wants_states,
        )
