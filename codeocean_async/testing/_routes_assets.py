"""The fake's routes for data assets and custom metadata: get, create (every source kind),
update, delete, archive, permissions, search (paginated with an opaque next_token), transfer."""

from __future__ import annotations

import re
import uuid
from typing import Any

from ._asset_sources import bucket_of, source_fields, strings
from ._asset_sources import object_field as _object
from ._asset_sources import required as _required
from ._pages import page_token, read_token
from ._records import DEFAULT_OWNER, DEFAULT_OWNER_EMAIL
from ._routes import HTTPError, Reply, Request, RouteTable, _json_object, _objects, _opt_str
from ._store import Store

__all__ = ["ROUTES"]

_ROLES = {
    "users": {"owner", "editor", "viewer"},
    "groups": {"owner", "editor", "viewer", "discoverable"},
}
_EVERYONE = {"viewer", "discoverable", "none"}
_BOOLS = {"true": True, "false": False, "True": True, "False": False}


def _asset(store: Store, asset_id: str) -> dict[str, Any]:
    asset = store.data_assets.get(asset_id)
    if asset is None:
        raise HTTPError(404, f"Data asset {asset_id} not found")
    return asset


def _render(store: Store, asset: dict[str, Any]) -> dict[str, Any]:
    return store.assets.render(asset, store.clock.now())


def _get(store: Store, req: Request) -> Reply:
    return Reply(200, _render(store, _asset(store, req.params[0])))


def _create(store: Store, req: Request) -> Reply:
    body = _json_object(req.body)
    name, mount = _required(body, "name"), _required(body, "mount")
    tags = strings(body, "tags") or []
    with store.lock:
        fields = source_fields(store, body)
        asset: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "created": store.epoch(),
            "name": name,
            "mount": mount,
            "last_used": 0,
            "owner": DEFAULT_OWNER,
            "owner_email": DEFAULT_OWNER_EMAIL,
            "state": "draft",
            "type": fields.pop("type"),
            "tags": tags,
            "files": 0,
            "size": 0,
        }
        description = _opt_str(body, "description")
        if description is not None:
            asset["description"] = description
        metadata = _object(body, "custom_metadata")
        if metadata:
            asset["custom_metadata"] = metadata
        asset.update(fields)
        store.data_assets[asset["id"]] = asset
        store.assets.start(asset["id"], store.clock.now())
        return Reply(200, _render(store, asset))


def _update(store: Store, req: Request) -> Reply:
    body = _json_object(req.body)
    with store.lock:
        asset = _asset(store, req.params[0])
        changes: dict[str, Any] = {}
        for key in ("name", "description", "mount"):
            value = _opt_str(body, key)
            if value is not None:
                changes[key] = value
        tags = strings(body, "tags")
        if tags is not None:
            changes["tags"] = tags
        metadata = _object(body, "custom_metadata")
        if metadata is not None:
            changes["custom_metadata"] = metadata
        asset.update(changes)
        return Reply(200, _render(store, asset))


def _delete(store: Store, req: Request) -> Reply:
    with store.lock:
        _asset(store, req.params[0])
        store.data_assets.pop(req.params[0])
        store.assets.forget(req.params[0])
    return Reply(204)


def _archive(store: Store, req: Request) -> Reply:
    asset = _asset(store, req.params[0])
    flag = _BOOLS.get(req.query.get("archive", ""))
    if flag is None:
        raise HTTPError(400, "query parameter 'archive' must be true or false")
    with store.lock:
        (store.assets.archived.add if flag else store.assets.archived.discard)(asset["id"])
    return Reply(204)


def _get_permissions(store: Store, req: Request) -> Reply:
    asset = _asset(store, req.params[0])
    stored = store.assets.permissions.get(asset["id"])
    if stored is None:
        owner = {"email": asset.get("owner_email", DEFAULT_OWNER_EMAIL), "role": "owner"}
        stored = {"users": [owner], "everyone": "none"}
    return Reply(200, stored)


def _update_permissions(store: Store, req: Request) -> Reply:
    asset = _asset(store, req.params[0])
    body = _json_object(req.body)
    for key, id_key in (("users", "email"), ("groups", "group")):
        for item in _objects(body, key):
            if not isinstance(item.get(id_key), str) or item.get("role") not in _ROLES[key]:
                raise HTTPError(400, f"{key}[] need a {id_key} and a valid role")
    if body.get("everyone") is not None and body["everyone"] not in _EVERYONE:
        raise HTTPError(400, f"everyone must be one of {sorted(_EVERYONE)}")
    with store.lock:
        store.assets.permissions[asset["id"]] = body
    return Reply(204)


_TERM = re.compile(r'(\w+):"([^"]*)"|(\w+):(\S+)|"([^"]*)"|(\S+)')


def _matcher(query: str) -> Any:
    """A predicate for ``query``: fields ``name:``/``tag:`` (one field repeated is an OR,
    different fields AND), anything else free text over name, tags and description."""
    groups: dict[str, list[str]] = {}
    for m in _TERM.finditer(query):
        key = (m.group(1) or m.group(3) or "").lower()
        value = (m.group(2) or m.group(4) or m.group(5) or m.group(6) or "").lower()
        groups.setdefault(key if key in ("name", "tag") else "", []).append(value)

    def matches(asset: dict[str, Any]) -> bool:
        name, tags = str(asset["name"]).lower(), [str(t).lower() for t in asset.get("tags", ())]
        text = " ".join([name, *tags, str(asset.get("description", "")).lower()])
        tests = {
            "name": lambda v: v in name,
            "tag": lambda v: v in tags,
            "": lambda v: v in text,
        }
        return all(any(tests[key](v) for v in values) for key, values in groups.items())

    return matches


def _search(store: Store, req: Request) -> Reply:
    body = _json_object(req.body)
    limit = body.get("limit", 100) or 100
    if type(limit) is not int or not 1 <= limit <= 1000:
        raise HTTPError(400, "limit must be between 1 and 1000")
    token, offset = _opt_str(body, "next_token"), body.get("offset") or 0
    if token is not None:
        offset = read_token("data_assets", token)
        if offset is None:
            raise HTTPError(400, "next_token is not valid")
    if type(offset) is not int or offset < 0:
        raise HTTPError(400, "offset must be a non-negative integer")
    archived = body.get("archived") is True
    sort_field = _opt_str(body, "sort_field") or "created"
    if sort_field not in ("created", "type", "name", "size"):
        raise HTTPError(400, f"sort_field {sort_field!r} is not valid")
    order = _opt_str(body, "sort_order") or ("desc" if sort_field == "created" else "asc")
    matches = _matcher(_opt_str(body, "query") or "")
    kind = _opt_str(body, "type")
    with store.lock:
        found = [
            _render(store, a)
            for a in store.data_assets.values()
            if (a["id"] in store.assets.archived) == archived
            and (kind is None or a["type"] == kind)
            and matches(a)
        ]
    found.sort(key=lambda a: (a.get(sort_field) or 0, a["created"]), reverse=order == "desc")
    page = found[offset : offset + limit]
    answer: dict[str, Any] = {"has_more": offset + limit < len(found), "results": page}
    if answer["has_more"]:
        answer["next_token"] = page_token("data_assets", offset + limit)
    return Reply(200, answer)


def _transfer(store: Store, req: Request) -> Reply:
    body = _json_object(req.body)
    with store.lock:
        asset = _asset(store, req.params[0])
        target = _object(body, "target")
        aws = None if target is None else _object(target, "aws", "target.")
        if aws is None:
            raise HTTPError(400, "target.aws is required")
        force = body.get("force")
        if force is not None and not isinstance(force, bool):
            raise HTTPError(400, "force must be a boolean")
        asset["source_bucket"] = bucket_of(aws, "target.aws.", external=True)
        asset["last_transferred"] = store.epoch()
        store.assets.transfers.append(
            {"data_asset_id": asset["id"], "target": target, "force": bool(force)}
        )
    return Reply(204)


def _custom_metadata(store: Store, req: Request) -> Reply:
    return Reply(200, store.assets.custom_metadata)


ROUTES: RouteTable = {
    ("data_assets",): {"POST": _create},
    ("data_assets", "search"): {"POST": _search},
    ("data_assets", "*"): {"GET": _get, "PUT": _update, "DELETE": _delete},
    ("data_assets", "*", "archive"): {"PATCH": _archive},
    ("data_assets", "*", "permissions"): {"GET": _get_permissions, "POST": _update_permissions},
    ("data_assets", "*", "transfer"): {"POST": _transfer},
    ("custom_metadata",): {"GET": _custom_metadata},
}
