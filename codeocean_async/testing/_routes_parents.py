"""The fake's routes for capsules and pipelines beyond metadata and listings: delete, archive,
app panel, permissions, data assets attached (to a capsule, a pipeline or a cloud
workstation's computation), Git sync, releases and release jobs, search."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from ._parent_state import ParentExtras
from ._records import Parent
from ._releases import VALIDATION_FLAGS, ReleaseJob
from ._routes import HTTPError, Reply, Request, RouteTable, _json_object, _parent
from ._search_parents import ROUTES as SEARCH
from ._store import Store

__all__ = ["ROUTES"]

_Route = Callable[[str, Store, Request], Reply]
_ROLES = {
    "users": ("email", ("owner", "editor", "viewer")),
    "groups": ("group", ("owner", "editor", "viewer", "discoverable")),
}
_EVERYONE = ("viewer", "discoverable", "none")
# The spellings Go's strconv.ParseBool reads (the official SDK sends Python's True/False).
_TRUE, _FALSE = ("1", "t", "T", "TRUE", "true", "True"), ("0", "f", "F", "FALSE", "false", "False")


def _locked(handler: _Route) -> _Route:
    @functools.wraps(handler)
    def locked(kind: str, store: Store, req: Request) -> Reply:
        with store.lock:
            return handler(kind, store, req)

    return locked


def _extras(store: Store, kind: str, req: Request) -> tuple[Parent, ParentExtras]:
    parent = _parent(store, kind, req.params[0])
    return parent, store.parents_state.of(parent)


@_locked
def _delete(kind: str, store: Store, req: Request) -> Reply:
    parent = _parent(store, kind, req.params[0])
    if not parent.json.get("archived"):
        raise HTTPError(403, f"{kind} {parent.id} must be archived before it is deleted")
    if parent.json.get("versions"):
        raise HTTPError(403, f"{kind} {parent.id} has been released and cannot be deleted")
    del store.parents[kind][parent.id]
    store.parents_state.forget(parent)
    return Reply(204)


@_locked
def _archive(kind: str, store: Store, req: Request) -> Reply:
    parent = _parent(store, kind, req.params[0])
    value = req.query.get("archive")
    if value not in _TRUE + _FALSE:
        raise HTTPError(400, "query parameter 'archive' must be true or false")
    if value in _TRUE:
        parent.json["archived"] = True
    else:
        parent.json.pop("archived", None)  # a zero value: left out
    return Reply(204)


@_locked
def _app_panel(kind: str, store: Store, req: Request) -> Reply:
    parent, extras = _extras(store, kind, req)
    version: int | None = None
    if "version" in req.query:
        text = req.query["version"]
        if not text.isdigit():
            raise HTTPError(400, f"version must be a number, not {text!r}")
        version = int(text)
        if version not in parent.major_versions:
            raise HTTPError(400, f"version {version} is not a released version of {parent.id}")
    panel = extras.app_panels.get(version) or extras.app_panels.get(None)
    if panel is not None:
        return Reply(200, panel)
    assets = [
        {
            "id": asset_id,
            "mount": mount,
            "name": store.data_assets[asset_id]["name"],
            "kind": "internal",
            "accessible": True,
        }
        for asset_id, mount in extras.attached.items()
        if asset_id in store.data_assets
    ]
    body: dict[str, Any] = {"general": {"title": parent.json["name"]}}
    if assets:
        body["data_assets"] = assets
    return Reply(200, body)


@_locked
def _get_permissions(kind: str, store: Store, req: Request) -> Reply:
    return Reply(200, json.loads(json.dumps(_extras(store, kind, req)[1].permissions)))


def _checked_permissions(body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, (name, roles) in _ROLES.items():
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise HTTPError(400, f"{key} must be an array of objects")
        for item in value:
            if not isinstance(item.get(name), str) or not item[name]:
                raise HTTPError(400, f"{key}[].{name} is required")
            if item.get("role") not in roles:
                raise HTTPError(400, f"{key}[].role must be one of {', '.join(roles)}")
        result[key] = [{name: item[name], "role": item["role"]} for item in value]
    everyone = body.get("everyone")
    if everyone is not None:
        if everyone not in _EVERYONE:
            raise HTTPError(400, f"everyone must be one of {', '.join(_EVERYONE)}")
        result["everyone"] = everyone
    share = body.get("share_assets")
    if share is not None:
        if not isinstance(share, bool):
            raise HTTPError(400, "share_assets must be true or false")
        result["share_assets"] = share
    return result


@_locked
def _update_permissions(kind: str, store: Store, req: Request) -> Reply:
    _, extras = _extras(store, kind, req)
    extras.permissions.update(_checked_permissions(_json_object(req.body)))
    return Reply(204)


def _json_array(raw: bytes) -> list[Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise HTTPError(400, "request body is not valid JSON") from None
    if not isinstance(body, list) or not body:
        raise HTTPError(400, "request body must be a non-empty JSON array")
    return body


def _attach_into(store: Store, attached: dict[str, str], raw: bytes) -> list[dict[str, Any]]:
    """Attach the body's ``[{id, mount}]`` into ``attached``; what each attach did."""
    wanted = []
    for item in _json_array(raw):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise HTTPError(400, "each data asset needs a string id")
        mount = item.get("mount")
        if mount is not None and (not isinstance(mount, str) or not mount.strip()):
            raise HTTPError(400, f"data asset {item['id']}: mount must be a non-empty string")
        asset = store.data_assets.get(item["id"])
        if asset is None:
            raise HTTPError(404, f"Data asset {item['id']} not found")
        wanted.append((asset, mount or asset["mount"]))
    results = []
    for asset, mount in wanted:
        for other, used in attached.items():
            if used == mount and other != asset["id"]:
                raise HTTPError(400, f"mount {mount!r} is used by data asset {other}")
        attached[asset["id"]] = mount
        results.append({"id": asset["id"], "mount": mount, "ready": True})
    return results


def _detach_from(store: Store, attached: dict[str, str], raw: bytes) -> None:
    ids = _json_array(raw)
    if not all(isinstance(i, str) and i for i in ids):
        raise HTTPError(400, "request body must be an array of data asset IDs")
    for asset_id in ids:
        if asset_id not in store.data_assets:
            raise HTTPError(404, f"Data asset {asset_id} not found")
        if asset_id not in attached:
            raise HTTPError(400, f"data asset {asset_id} is not attached")
    for asset_id in ids:
        del attached[asset_id]


@_locked
def _attach(kind: str, store: Store, req: Request) -> Reply:
    return Reply(200, _attach_into(store, _extras(store, kind, req)[1].attached, req.body))


@_locked
def _detach(kind: str, store: Store, req: Request) -> Reply:
    _detach_from(store, _extras(store, kind, req)[1].attached, req.body)
    return Reply(204)


def _workstation(store: Store, req: Request) -> tuple[dict[str, Any], dict[str, str]]:
    comp = store.computations.get(req.params[0])
    if comp is None:
        raise HTTPError(404, f"Computation {req.params[0]} not found")
    if not store.render(comp).get("cloud_workstation"):
        raise HTTPError(400, f"computation {comp.id} is not a cloud workstation session")
    fields = comp.overrides if "data_assets" in comp.overrides else comp.fields
    attached = {a["id"]: a["mount"] for a in fields.get("data_assets") or ()}
    return fields, attached


@_locked
def _attach_workstation(_: str, store: Store, req: Request) -> Reply:
    fields, attached = _workstation(store, req)
    results = _attach_into(store, attached, req.body)
    fields["data_assets"] = [{"id": k, "mount": v} for k, v in attached.items()]
    return Reply(200, results)


@_locked
def _detach_workstation(_: str, store: Store, req: Request) -> Reply:
    fields, attached = _workstation(store, req)
    _detach_from(store, attached, req.body)
    fields["data_assets"] = [{"id": k, "mount": v} for k, v in attached.items()]
    return Reply(204)


@_locked
def _sync(kind: str, store: Store, req: Request) -> Reply:
    _parent(store, kind, req.params[0])
    state = store.parents_state
    return Reply(200, state.syncs.popleft() if state.syncs else {})


@_locked
def _release(kind: str, store: Store, req: Request) -> Reply:
    parent = _parent(store, kind, req.params[0])
    versions = parent.json.get("versions") or []
    if not versions:
        raise HTTPError(
            400, f"{kind} {parent.id} was never released: make its first release in the app"
        )
    plan = store.parents_state.next_release()
    if plan.issues:
        return Reply(403, {flag: True for flag in VALIDATION_FLAGS if flag in plan.issues})
    major = max(int(v["major_version"]) for v in versions) + 1
    job = ReleaseJob(
        job_id=str(uuid.uuid4()),
        parent_id=parent.id,
        created_at=store.clock.now(),
        started_epoch=store.epoch(),
        plan=plan,
        release_capsule=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{parent.id}/release/{major}")),
        release_version={"major_version": major, "minor_version": 0, "release_time": store.epoch()},
    )
    store.parents_state.jobs[job.job_id] = job
    return Reply(200, job.render(store.clock.now()))


@_locked
def _release_job(kind: str, store: Store, req: Request) -> Reply:
    parent = _parent(store, kind, req.params[0])
    job = store.parents_state.jobs.get(req.params[1])
    if job is None or job.parent_id != parent.id:
        raise HTTPError(404, f"Release job {req.params[1]} not found")
    return Reply(200, job.render(store.clock.now()))


def _routes(kind: str, plural: str) -> RouteTable:
    def bind(handler: _Route) -> Callable[[Store, Request], Reply]:
        return partial(handler, kind)

    return {
        (plural, "*"): {"DELETE": bind(_delete)},
        (plural, "*", "archive"): {"PATCH": bind(_archive)},
        (plural, "*", "app_panel"): {"GET": bind(_app_panel)},
        (plural, "*", "permissions"): {
            "GET": bind(_get_permissions),
            "POST": bind(_update_permissions),
        },
        # The official SDK detaches at ".../data_assets/"; the docs at ".../data_assets".
        (plural, "*", "data_assets"): {"POST": bind(_attach), "DELETE": bind(_detach)},
        (plural, "*", "data_assets", ""): {"DELETE": bind(_detach)},
        (plural, "*", "sync"): {"POST": bind(_sync)},
        (plural, "*", "release"): {"POST": bind(_release)},
        (plural, "*", "release", "*"): {"GET": bind(_release_job)},
    }


ROUTES: RouteTable = {
    **_routes("capsule", "capsules"),
    **_routes("pipeline", "pipelines"),
    **SEARCH,
    ("computations", "*", "data_assets"): {
        "POST": partial(_attach_workstation, ""),
        "DELETE": partial(_detach_workstation, ""),
    },
    ("computations", "*", "data_assets", ""): {"DELETE": partial(_detach_workstation, "")},
}
