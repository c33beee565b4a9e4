"""What the Airflow provider does that needs no Airflow: specs, XCom JSON, events, clients per loop.

``codeocean_async.airflow`` imports Airflow; everything here is plain Python, so the SDK's own
tests cover it without Airflow installed:

- ``run_params``: the operator's (rendered) fields as a checked ``RunParams``, taking what a DAG
  file naturally holds (``"ID"``, ``"ID:MOUNT"``, dicts, a templated string of them);
- ``capture_params``: the operator's ``capture=`` (name, mount, tags);
- ``to_xcom`` / ``from_xcom``: a computation as the JSON object pushed to XCom (no token);
- ``follow``: one wait on a computation as the trigger's event payload (never raises);
- ``LoopClients``: one ``AsyncCodeOcean`` per connection per running event loop, shared by
  every wait on that loop while any needs it, closed when the last one is done.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel

from ._client import AsyncCodeOcean
from ._converter import structure, to_json
from ._errors import CodeOceanError, WaitTimeoutError
from .models import Computation, Outcome, RunParams

__all__ = [
    "LoopClients",
    "capture_params",
    "failure_message",
    "follow",
    "from_xcom",
    "outcome_of",
    "run_params",
    "seconds_left",
    "to_xcom",
    "wait_for",
]


def _listish(value: Any, name: str) -> Any:
    """A templated string holding a list (JSON, a Python repr, or comma-separated) as a list."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith(("[", "{")):
        try:
            return json.loads(text)
        except ValueError:
            try:
                return ast.literal_eval(text)
            except (ValueError, SyntaxError):
                raise ValueError(f"{name}: cannot read {text!r} as a list") from None
    return [item.strip() for item in text.split(",") if item.strip()]


def _version(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():  # a rendered "{{ ... }}"
        return int(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"version must be an integer, not {value!r}")
    return value


def run_params(
    *,
    capsule_id: str | None = None,
    pipeline_id: str | None = None,
    version: Any = None,
    data_assets: Any = None,
    parameters: Any = None,
    named_parameters: Any = None,
    processes: Any = None,
) -> RunParams:
    """The operator's run fields, as rendered, checked as one ``RunParams``."""
    fields: dict[str, Any] = {
        "capsule_id": capsule_id or None,
        "pipeline_id": pipeline_id or None,
        "version": _version(version),
        "data_assets": _listish(data_assets, "data_assets"),
        "parameters": _listish(parameters, "parameters"),
        "named_parameters": named_parameters,
        "processes": processes,
    }
    if isinstance(named_parameters, str):
        fields["named_parameters"] = _listish(named_parameters, "named_parameters")
    return RunParams(**{k: v for k, v in fields.items() if v is not None})


def capture_params(capture: Any) -> dict[str, Any] | None:
    """``capture=`` as the keywords of ``data_assets.capture``: ``name``, ``mount``, ``tags``."""
    if capture is None:
        return None
    if not isinstance(capture, Mapping):
        raise TypeError("capture must be a dict with 'name', 'mount' and optionally 'tags'")
    unknown = set(capture) - {"name", "mount", "tags", "description"}
    if unknown or "name" not in capture or "mount" not in capture:
        raise ValueError(
            f"capture takes 'name' and 'mount' (and 'tags', 'description'), got {sorted(capture)}"
        )
    result = dict(capture)
    if "tags" in result:
        result["tags"] = list(_listish(result["tags"], "capture tags") or [])
    return result


def to_xcom(computation: Computation) -> dict[str, Any]:
    """The computation as the API's JSON object (what the task returns into XCom)."""
    data: dict[str, Any] = json.loads(to_json(computation))
    return data


def from_xcom(data: Mapping[str, Any]) -> Computation:
    """The computation back from its XCom JSON."""
    return structure(dict(data), Computation)


def failure_message(computation: Computation) -> str:
    """Why a finished run fails its task: the outcome first, then what the API said."""
    return (
        f"Code Ocean computation {computation.id} finished {computation.outcome.value} "
        f"(state {computation.state.value}, end_status "
        f"{computation.end_status.value if computation.end_status else None}, "
        f"exit_code {computation.exit_code})"
    )


def seconds_left(deadline: float | None) -> float | None:
    """Seconds until an absolute deadline (epoch seconds), never below 0; ``None`` for none."""
    return None if deadline is None else max(0.0, deadline - time.time())


async def wait_for(
    client: AsyncCodeOcean,
    computation_id: str,
    *,
    capsule_id: str | None = None,
    pipeline_id: str | None = None,
    timeout: float | None = None,
) -> Computation:
    """``wait_for_completion`` naming the run's parent, so that every wait on the client shares
    one poll loop listing the parent's computations (not a GET per run)."""
    return await client.computations.wait_for_completion(
        computation_id, timeout=timeout, capsule_id=capsule_id, pipeline_id=pipeline_id
    )


async def follow(
    clients: LoopClients,
    conn_id: str,
    computation_id: str,
    *,
    capsule_id: str | None = None,
    pipeline_id: str | None = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """One wait as a trigger's event payload: ``{"status": "finished", "computation": ...}``,
    or ``{"status": "timeout" | "error", "message": ..., "computation": last state or None}``.
    """
    base: dict[str, Any] = {"computation_id": computation_id, "computation": None}
    try:
        async with clients.client(conn_id) as client:
            done = await wait_for(
                client,
                computation_id,
                capsule_id=capsule_id,
                pipeline_id=pipeline_id,
                timeout=seconds_left(deadline),
            )
    except WaitTimeoutError as exc:
        last = exc.computation
        return {
            **base,
            "status": "timeout",
            "computation": None if last is None else to_xcom(last),
            "message": f"timed out waiting for Code Ocean computation {computation_id}: {exc}",
        }
    except Exception as exc:  # any failure is the task's to report: the event names it
        return {
            **base,
            "status": "error",
            "message": f"waiting for Code Ocean computation {computation_id} failed: "
            f"{type(exc).__name__}: {exc}",
        }
    outcome = str(done.outcome)
    return {**base, "status": "finished", "computation": to_xcom(done), "outcome": outcome}


def outcome_of(event: Mapping[str, Any]) -> Outcome | None:
    """The outcome a finished event carries (``None`` for any other event)."""
    if event.get("status") != "finished":
        return None
    return from_xcom(event["computation"]).outcome


ClientFactory = Callable[[str], Awaitable[AsyncCodeOcean]]


class _Entry:
    def __init__(self) -> None:
        self.client: AsyncCodeOcean | None = None
        self.users = 0
        self.ready = anyio.Event()
        self.error: BaseException | None = None


class LoopClients:
    """One client per connection ID per running event loop, while any wait on that loop uses it.

    ``factory(conn_id)`` builds a client (reading the connection once). Every ``client(conn_id)``
    on the same loop gets the same client (so their waits share its poll loop); the last to
    leave closes it. A new loop (``dag.test()`` runs each trigger in a fresh one) gets its own.
    """

    def __init__(self, factory: ClientFactory) -> None:
        self._factory = factory
        self._entries: dict[tuple[object, str], _Entry] = {}

    def __len__(self) -> int:
        """How many clients are open now (across loops)."""
        return len(self._entries)

    @asynccontextmanager
    async def client(self, conn_id: str) -> AsyncIterator[AsyncCodeOcean]:
        key = (anyio.lowlevel.current_token(), conn_id)
        entry = self._entries.get(key)
        creator = entry is None
        if entry is None:
            entry = self._entries[key] = _Entry()
        entry.users += 1
        try:
            if creator:
                try:
                    entry.client = await self._factory(conn_id)
                except BaseException as exc:
                    entry.error = exc
                    raise
                finally:
                    entry.ready.set()
            else:
                await entry.ready.wait()
                if entry.client is None:
                    raise CodeOceanError(f"connection {conn_id!r}: {entry.error}")
            yield entry.client
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._entries[key]
                if entry.client is not None:
                    with anyio.CancelScope(shield=True):
                        await entry.client.aclose()
