"""The fake's capsule and pipeline searches: the query, the cheap filters, the order, and
pages with an opaque ``next_token``."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any

from ._pages import page_token, read_token
from ._records import DEFAULT_OWNER, Parent
from ._routes import HTTPError, Reply, Request, RouteTable, _json_object
from ._store import Store

__all__ = ["ROUTES"]

_SORT_FIELDS = ("created", "last_accessed", "name")
_ENUMS = {
    "sort_order": ("asc", "desc"),
    "ownership": ("private", "shared", "created"),
    "status": ("non_release", "release"),
}


def _offset_of(token: str) -> int:
    offset = read_token("parents", token)
    if offset is None:
        raise HTTPError(400, f"invalid next_token {token!r}")
    return offset


def _int(body: dict[str, Any], key: str, low: int, high: int | None) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if type(value) is not int or value < low or (high is not None and value > high):
        bound = f" and {high}" if high is not None else ""
        raise HTTPError(400, f"{key} must be an integer between {low}{bound}")
    return value


def _matches(parent: Parent, term: str, attached: Iterable[str]) -> bool:
    """One term of a query: ``name:``, ``tag:``, ``id:`` or free text (case-insensitive; an
    ID of a data asset attached matches too, as ``search_by_data_asset`` expects)."""
    field, colon, value = term.partition(":")
    body = parent.json
    name = str(body.get("name", "")).lower()
    tags = [str(t).lower() for t in body.get("tags") or ()]
    if colon and field.lower() in ("name", "tag", "id"):
        value = value.strip('"').lower()
        return {
            "name": value in name,
            "tag": value in tags,
            "id": value == parent.id.lower(),
        }[field.lower()]
    term = term.strip('"').lower()
    return (
        term in name
        or term in tags
        or term == parent.id.lower()
        or term in (a.lower() for a in attached)
    )


def _selected(store: Store, parent: Parent, body: dict[str, Any]) -> bool:
    query = body.get("query")
    attached = store.parents_state.of(parent).attached
    if query and not all(_matches(parent, term, attached) for term in query.split()):
        return False
    if bool(body.get("archived")) != bool(parent.json.get("archived")):
        return False
    status = body.get("status")
    if status is not None and parent.json.get("status") != status:
        return False
    mine = parent.json.get("owner") == DEFAULT_OWNER  # the token's user owns what is seeded so
    ownership = body.get("ownership")
    if ownership in ("private", "created"):
        return mine
    return not (ownership == "shared" and mine)


def _search(kind: str, store: Store, req: Request) -> Reply:
    body = _json_object(req.body)
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise HTTPError(400, "query must be a string")
    for key, allowed in _ENUMS.items():
        if body.get(key) is not None and body[key] not in allowed:
            raise HTTPError(400, f"{key} must be one of {', '.join(allowed)}")
    sort_field = body.get("sort_field")
    if sort_field is not None and sort_field not in _SORT_FIELDS:
        raise HTTPError(400, f"sort_field must be one of {', '.join(_SORT_FIELDS)}")
    for key in ("favorite", "archived"):
        if body.get(key) is not None and not isinstance(body[key], bool):
            raise HTTPError(400, f"{key} must be true or false")
    if body.get("filters") is not None and not isinstance(body["filters"], list):
        raise HTTPError(400, "filters must be an array")
    limit = _int(body, "limit", 1, 1000) or 100
    token = body.get("next_token")
    if token is not None and not isinstance(token, str):
        raise HTTPError(400, "next_token must be a string")
    start = _offset_of(token) if token else (_int(body, "offset", 0, None) or 0)
    with store.lock:
        found = [p for p in store.parents[kind].values() if _selected(store, p, body)]
        key = sort_field or "name"
        found.sort(
            key=lambda p: (p.json.get(key) or 0) if key != "name" else str(p.json["name"]).lower(),
            reverse=body.get("sort_order") == "desc",
        )
        page = found[start : start + limit]
        more = start + limit < len(found)
        answer: dict[str, Any] = {"has_more": more, "results": [dict(p.json) for p in page]}
        if more:
            answer["next_token"] = page_token("parents", start + limit)
        return Reply(200, answer)


ROUTES: RouteTable = {
    ("capsules", "search"): {"POST": partial(_search, "capsule")},
    ("pipelines", "search"): {"POST": partial(_search, "pipeline")},
}
