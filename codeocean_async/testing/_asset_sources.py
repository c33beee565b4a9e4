"""How the fake makes a new data asset's type, provenance and bucket from its request's
``source`` (S3, GCS, a computation's results, a cloud workstation) or ``data_asset_ids``."""

from __future__ import annotations

from typing import Any

from ._routes import HTTPError, _opt_str
from ._store import Store

__all__ = ["bucket_of", "object_field", "required", "source_fields", "strings"]

_SOURCES = ("aws", "gcp", "computation", "cloud_workstation")


def required(obj: dict[str, Any], key: str, where: str = "") -> str:
    value = _opt_str(obj, key, where)
    if value is None:
        raise HTTPError(400, f"{where}{key} is required")
    return value


def object_field(obj: dict[str, Any], key: str, where: str = "") -> dict[str, Any] | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, dict):
        raise HTTPError(400, f"{where}{key} must be an object")
    return value


def strings(obj: dict[str, Any], key: str) -> list[str] | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise HTTPError(400, f"{key} must be an array of strings")
    return value


def bucket_of(aws: dict[str, Any], where: str, *, external: bool) -> dict[str, Any]:
    bucket = {"origin": "aws", "bucket": required(aws, "bucket", where), "external": external}
    prefix = _opt_str(aws, "prefix", where)
    if prefix is not None:
        bucket["prefix"] = prefix
    _opt_str(aws, "endpoint_name", where)
    return bucket


def _from_computation(store: Store, source: dict[str, Any], where: str) -> dict[str, Any]:
    comp_id = required(source, "id", where)
    comp = store.computations.get(comp_id)
    if comp is None:
        raise HTTPError(400, f"computation {comp_id} not found")
    return {"comp": comp, "rendered": store.render(comp)}


def source_fields(store: Store, body: dict[str, Any]) -> dict[str, Any]:
    """The new asset's type, provenance and bucket, from its ``source`` or ``data_asset_ids``."""
    source, ids = object_field(body, "source"), body.get("data_asset_ids")
    target = object_field(body, "target")
    if (source is None) == (ids is None):
        raise HTTPError(400, "exactly one of source and data_asset_ids is required")
    if ids is not None:
        ids = strings(body, "data_asset_ids")
        if not ids:
            raise HTTPError(400, "data_asset_ids must name at least one data asset")
        contained = []
        for asset_id in ids:
            asset = store.data_assets.get(asset_id)
            if asset is None:
                raise HTTPError(400, f"data asset {asset_id} not found")
            contained.append(
                {"id": asset_id, "mount": asset["mount"], "size": asset.get("size", 0)}
            )
        if target is not None:
            raise HTTPError(400, "target is only valid with a computation source")
        return {"type": "combined", "contained_data_assets": contained}
    assert source is not None
    given = [k for k in _SOURCES if source.get(k) is not None]
    if len(given) != 1:
        raise HTTPError(400, f"source needs exactly one of {', '.join(_SOURCES)}")
    kind = given[0]
    spec = object_field(source, kind, "source.")
    assert spec is not None
    where = f"source.{kind}."
    if target is not None and kind != "computation":
        raise HTTPError(400, "target is only valid with a computation source")
    if kind == "aws":
        if spec.get("use_input_bucket") is True:
            spec = {"bucket": "input-bucket", **{k: v for k, v in spec.items() if k == "prefix"}}
        external = spec.get("keep_on_external_storage") is True
        return {"type": "dataset", "source_bucket": bucket_of(spec, where, external=external)}
    if kind == "gcp":
        gcs = {"origin": "gcp", "bucket": required(spec, "bucket", where), "external": False}
        return {"type": "dataset", "source_bucket": gcs}
    found = _from_computation(store, spec, where)
    comp, rendered = found["comp"], found["rendered"]
    provenance: dict[str, Any] = {"computation": comp.id, "run_script": "code/run"}
    if comp.parent is not None:
        provenance["capsule"] = comp.parent.id
    used = [a["id"] for a in rendered.get("data_assets") or ()]
    if used:
        provenance["data_assets"] = used
    if kind == "cloud_workstation":
        required(spec, "path", where)
        run_script = _opt_str(spec, "run_script", where)
        if run_script is not None:
            provenance["run_script"] = run_script
        return {
            "type": "result" if run_script is not None else "dataset",
            "provenance": provenance,
            "source_bucket": {"origin": "local"},
        }
    if not rendered.get("has_results"):
        raise HTTPError(400, f"computation {comp.id} has no results")
    _opt_str(spec, "path", where)
    bucket: dict[str, Any] = {"origin": "local"}
    if target is not None:
        aws = object_field(target, "aws", "target.")
        if aws is None:
            raise HTTPError(400, "target.aws is required")
        bucket = bucket_of(aws, "target.aws.", external=True)
    return {"type": "result", "provenance": provenance, "source_bucket": bucket}
