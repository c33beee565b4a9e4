"""Payload drift: the answer a newer server might give, with unknown, missing and new values."""

from __future__ import annotations

from typing import Any

__all__ = ["NEW_CAPSULE_STATUS", "NEW_COMPUTATION_STATE", "UNKNOWN_KEY", "drift"]

#: The key added to every object; at the top level it holds a nested object and array.
UNKNOWN_KEY = "x_fake_drift"
#: An open-enum value no SDK knows, for capsules and pipelines.
NEW_CAPSULE_STATUS = "under_review"
#: What an ``initializing`` computation reports instead (it means the same thing).
NEW_COMPUTATION_STATE = "queued"

# Optional keys a server may leave out; ``has_results`` only when it is false.
_OPTIONAL = frozenset({"owner_email", "cloud_workstation", "tags", "description"})


def drift(body: Any) -> Any:
    """``body`` as a newer server might send it; never changes what a flow depends on.

    Every object gains :data:`UNKNOWN_KEY`; ``owner_email``, ``cloud_workstation``,
    ``tags``, ``description`` and a false ``has_results`` go away; a capsule's ``status``
    becomes :data:`NEW_CAPSULE_STATUS`, and an ``initializing`` computation reports
    :data:`NEW_COMPUTATION_STATE`. Terminal states, ``end_status`` and ``exit_code`` stay.
    """
    if isinstance(body, list):
        return [_drift(item, top=True) for item in body]
    return _drift(body, top=True)


def _drift(value: Any, *, top: bool) -> Any:
    if isinstance(value, list):
        return [_drift(item, top=False) for item in value]
    if not isinstance(value, dict):
        return value
    out = {
        key: _drift(item, top=False)
        for key, item in value.items()
        if key not in _OPTIONAL and not (key == "has_results" and item is False)
    }
    if "slug" in value and "status" in value:  # a capsule or a pipeline
        out["status"] = NEW_CAPSULE_STATUS
    if "run_time" in value and value.get("state") == "initializing":  # a computation
        out["state"] = NEW_COMPUTATION_STATE
    out[UNKNOWN_KEY] = {"since": "99.0", "items": [{"kind": "new"}]} if top else "new"
    return out
