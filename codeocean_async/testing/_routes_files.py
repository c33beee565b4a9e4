"""The fake's routes for results and files: a computation's results folders and file URLs, a
data asset's files and their URLs (signed URLs answered by the storage host)."""

from __future__ import annotations

import json
from functools import partial

from ._files import default_results
from ._routes import HTTPError, Reply, Request, RouteTable
from ._store import Store

__all__ = ["ROUTES"]

_RESULTS, _FILES = "results", "data_assets"


def _owner(store: Store, area: str, owner_id: str) -> None:
    """404 for an unknown computation or data asset; a finished computation with results and
    nothing seeded gets the default results."""
    if area == _FILES:
        if owner_id not in store.data_assets:
            raise HTTPError(404, f"Data asset {owner_id} not found")
        return
    comp = store.computations.get(owner_id)
    if comp is None:
        raise HTTPError(404, f"Computation {owner_id} not found")
    if not store.files.seeded(area, owner_id) and store.render(comp).get("has_results"):
        for path, content in default_results(owner_id).items():
            store.files.add(area, owner_id, path, content)


def _list(area: str, store: Store, req: Request) -> Reply:
    try:
        body = json.loads(req.body) if req.body else {}
    except ValueError:
        raise HTTPError(400, "request body is not valid JSON") from None
    path = body.get("path", "") if isinstance(body, dict) else None
    if not isinstance(path, str):
        raise HTTPError(400, "path must be a string")
    with store.lock:
        _owner(store, area, req.params[0])
        kind = store.files.kind(area, req.params[0], path)
        if kind is None:
            raise HTTPError(404, f"path {path!r} not found")
        if kind == "file":
            raise HTTPError(400, f"path {path!r} is a file, not a folder")
        return Reply(200, {"items": store.files.listing(area, req.params[0], path)})


def _file(store: Store, area: str, req: Request) -> str:
    path = req.query.get("path", "")
    if not path.strip("/"):
        raise HTTPError(400, "query parameter 'path' is required")
    _owner(store, area, req.params[0])
    kind = store.files.kind(area, req.params[0], path)
    if kind is None:
        raise HTTPError(404, f"file {path!r} not found")
    if kind == "folder":
        raise HTTPError(400, f"path {path!r} is a folder, not a file")
    return path


def _urls(area: str, store: Store, req: Request) -> Reply:
    with store.lock:
        path = _file(store, area, req)
        sign = partial(store.files.sign, area, req.params[0], path)
        return Reply(
            200,
            {
                "download_url": sign(disposition="attachment"),
                "view_url": sign(disposition="inline"),
            },
        )


def _download_url(area: str, store: Store, req: Request) -> Reply:
    with store.lock:
        path = _file(store, area, req)
        return Reply(
            200, {"url": store.files.sign(area, req.params[0], path, disposition="attachment")}
        )


ROUTES: RouteTable = {
    ("computations", "*", "results"): {"POST": partial(_list, _RESULTS)},
    ("computations", "*", "results", "urls"): {"GET": partial(_urls, _RESULTS)},
    ("computations", "*", "results", "download_url"): {"GET": partial(_download_url, _RESULTS)},
    ("data_assets", "*", "files"): {"POST": partial(_list, _FILES)},
    ("data_assets", "*", "files", "urls"): {"GET": partial(_urls, _FILES)},
    ("data_assets", "*", "files", "download_url"): {"GET": partial(_download_url, _FILES)},
}
