"""Request bodies as bytes: compact JSON, each request model's kept while the model lives.

A batch's specs are serialised once when the batch is checked (``_specs.to_run_params``); the
bytes are kept by the spec's identity, so sending it does not encode it again. Request models are
frozen and their fields tuples of frozen models, so the bytes cannot go stale; an entry goes when
its model is collected.
"""

from __future__ import annotations

import weakref
from typing import Any

from ._converter import to_json
from .models import DataAssetsRunParam, NamedRunParam, PipelineProcessParams, RunParams

__all__ = ["json_body"]

_KEPT: frozenset[type[Any]] = frozenset(
    {RunParams, DataAssetsRunParam, NamedRunParam, PipelineProcessParams}
)
_bodies: dict[int, tuple[weakref.ref[Any], bytes]] = {}


def json_body(obj: Any) -> bytes:
    """``obj`` as a request body: ``to_json``'s text, UTF-8 (kept for a request model)."""
    key = id(obj)
    kept = _bodies.get(key)
    if kept is not None and kept[0]() is obj:
        return kept[1]
    body = to_json(obj).encode()
    if type(obj) in _KEPT:

        def forget(_: weakref.ref[Any]) -> None:
            _bodies.pop(key, None)

        _bodies[key] = (weakref.ref(obj, forget), body)
    return body
