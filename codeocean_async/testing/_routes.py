"""The fake's core routes: capsules, computations and runs; and what every route module shares
(``HTTPError``, ``Request``, ``Reply``, the JSON field readers). ``_router`` joins the tables."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from ._records import Computation, Parent
from ._store import Store

__all__ = ["CORE", "HTTPError", "Handler", "Reply", "Request", "RouteTable"]


class HTTPError(Exception):
    """An error answer: the status and the ``message`` of its JSON body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Request:
    """What a handler sees: the path parameters, the query and the raw body."""

    method: str
    params: tuple[str, ...]
    query: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    """A handler's answer; ``body=None`` means no body (204)."""

    status: int
    body: Any = None


Handler = Callable[[Store, Request], Reply]
_LABEL = {"capsule": "Capsule", "pipeline": "Pipeline"}


def _parent(store: Store, kind: str, parent_id: str) -> Parent:
    parent = store.find_parent(kind, parent_id)
    if parent is None:
        raise HTTPError(404, f"{_LABEL[kind]} {parent_id} not found")
    return parent


def _get_parent(kind: str, store: Store, req: Request) -> Reply:
    return Reply(200, dict(_parent(store, kind, req.params[0]).json))


def _list_computations(kind: str, store: Store, req: Request) -> Reply:
    return Reply(200, store.list_for(_parent(store, kind, req.params[0])))


def _computation_or_404(store: Store, comp_id: str) -> Computation:
    comp = store.computations.get(comp_id)
    if comp is None:
        raise HTTPError(404, f"Computation {comp_id} not found")
    return comp


def _get_computation(store: Store, req: Request) -> Reply:
    return Reply(200, store.render(_computation_or_404(store, req.params[0])))


def _delete_computation(store: Store, req: Request) -> Reply:
    store.stop_or_remove(_computation_or_404(store, req.params[0]))
    return Reply(204)


def _rename_computation(store: Store, req: Request) -> Reply:
    comp = _computation_or_404(store, req.params[0])
    name = req.query.get("name", "")
    if not name.strip():
        raise HTTPError(400, "query parameter 'name' is required")
    comp.fields["name"] = name
    return Reply(204)


# --- POST /computations: RunParams validation -------------------------------------------------


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise HTTPError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "request body must be a JSON object")
    return body


def _opt_str(obj: dict[str, Any], key: str, where: str = "") -> str | None:
    """A string field; null, absent and "" all count as unset (Go zero values)."""
    value = obj.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise HTTPError(400, f"{where}{key} must be a string")
    return value


def _array(obj: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise HTTPError(400, f"{where}{key} must be an array")
    return value


def _objects(obj: dict[str, Any], key: str, where: str = "") -> list[dict[str, Any]]:
    items = _array(obj, key, where)
    if not all(isinstance(item, dict) for item in items):
        raise HTTPError(400, f"{where}{key} must be an array of objects")
    return items


def _params(obj: dict[str, Any], where: str = "") -> list[dict[str, str]]:
    """``parameters`` (ordered strings) then ``named_parameters``, as Computation.parameters."""
    positional = _array(obj, "parameters", where)
    if not all(isinstance(p, str) for p in positional):
        raise HTTPError(400, f"{where}parameters must be an array of strings")
    result = [{"value": p} for p in positional]
    for item in _objects(obj, "named_parameters", where):
        name, value = item.get("param_name"), item.get("value")
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise HTTPError(400, f"{where}named_parameters need a string param_name and value")
        result.append({"param_name": name, "value": value})
    return result


def _data_assets(store: Store, body: dict[str, Any]) -> list[dict[str, str]]:
    result = []
    for item in _objects(body, "data_assets"):
        asset_id = _opt_str(item, "id", "data_assets[].")
        if asset_id is None:
            raise HTTPError(400, "data_assets[].id is required")
        asset = store.data_assets.get(asset_id)
        if asset is None:
            raise HTTPError(400, f"data asset {asset_id} not found")
        mount = _opt_str(item, "mount", "data_assets[].") or asset["mount"]
        result.append({"id": asset_id, "mount": mount})
    return result


def _processes(parent: Parent, body: dict[str, Any]) -> list[dict[str, Any]]:
    result = []
    for item in _objects(body, "processes"):
        name = _opt_str(item, "name", "processes[].")
        if name is None:
            raise HTTPError(400, "processes[].name is required")
        process: dict[str, Any] = {
            "name": name,
            "capsule_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{parent.id}/{name}")),
        }
        params = _params(item, "processes[].")
        if params:
            process["parameters"] = params
        result.append(process)
    return result


def _run(store: Store, req: Request) -> Reply:
    body = _json_object(req.body)
    capsule_id, pipeline_id = _opt_str(body, "capsule_id"), _opt_str(body, "pipeline_id")
    if (capsule_id is None) == (pipeline_id is None):
        raise HTTPError(400, "exactly one of capsule_id and pipeline_id is required")
    parent = (
        _parent(store, "capsule", capsule_id)
        if capsule_id is not None
        else _parent(store, "pipeline", str(pipeline_id))
    )
    version = body.get("version")
    if version is not None and (type(version) is not int or version not in parent.major_versions):
        raise HTTPError(400, f"version {version!r} is not a released version of {parent.id}")
    fields: dict[str, Any] = {
        "data_assets": _data_assets(store, body),
        "parameters": _params(body),
    }
    profile = _opt_str(body, "nextflow_profile")
    _opt_str(body, "resume_run_id")
    if body.get("processes") is not None and parent.kind != "pipeline":
        raise HTTPError(400, "processes apply to pipeline runs only")
    processes = _processes(parent, body)
    if profile is not None:
        fields["nextflow_profile"] = profile
    if processes:
        fields["processes"] = processes
    with store.lock:
        outcome, durations = store.take_plan(parent)
        comp = store.add_computation(parent, outcome=outcome, durations=durations, fields=fields)
        store.created.append(comp.id)
        return Reply(200, store.render(comp))


#: A route table: path patterns (``"*"`` is one path parameter) to handlers by method.
RouteTable = dict[tuple[str, ...], dict[str, Handler]]

#: The routes of capsules, pipelines, computations and runs as first served (data assets: in
#: ``_routes_assets``).
CORE: RouteTable = {
    ("capsules", "*"): {"GET": partial(_get_parent, "capsule")},
    ("capsules", "*", "computations"): {"GET": partial(_list_computations, "capsule")},
    ("pipelines", "*"): {"GET": partial(_get_parent, "pipeline")},
    ("pipelines", "*", "computations"): {"GET": partial(_list_computations, "pipeline")},
    ("computations",): {"POST": _run},
    ("computations", "*"): {
        "GET": _get_computation,
        "DELETE": _delete_computation,
        "PATCH": _rename_computation,
    },
}
