"""Every operation of the API: its method, route, the server version it needs, its official name.

One table for the whole surface (``../shared/reference/api.md`` §1): a resource sends an
operation through ``HTTPPipeline.call`` by its name, so the request's method, path and
``Min-Server-Version`` come from here and nowhere else. Each operation asks only for the server
version that introduced it (api.md §2, "Version history"), so a deployment older than the
newest operation still serves the older ones. The official SDK's method name beside each is
what the README's migration table and its test read.

Capsules and pipelines share their routes (``{parent}`` below): the pipeline twin of a capsule
operation needs at least 4.1, when the ``pipelines`` routes appeared.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import attrs

__all__ = ["OPERATIONS", "Operation", "at_least", "operation", "version_tuple"]

#: The server version the ``pipelines`` routes appeared in.
PIPELINES_SINCE = "4.1.0"


def version_tuple(version: str) -> tuple[int, ...]:
    """``"4.8.0"`` as ``(4, 8, 0)`` (``ValueError`` for anything else)."""
    parts = version.split(".")
    if not 1 <= len(parts) <= 4 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a version: {version!r}")
    return tuple(int(p) for p in parts)


def at_least(*versions: str) -> str:
    """The highest of ``versions``."""
    return max(versions, key=version_tuple)


@attrs.frozen
class Operation:
    """One operation of the API.

    ``name``: this SDK's method (``"capsules.get"``); ``method`` and ``path`` (a template, path
    parameters in braces, relative to ``/api/v1/``); ``min_version``: the lowest server version
    that serves it (sent as ``Min-Server-Version``); ``official``: the official SDK 0.17's
    method (``"capsules.get_capsule"``); ``deprecated``: the platform's end of support, if any.
    """

    name: str
    method: str
    path: str
    min_version: str
    official: str
    deprecated: str | None = None

    def __attrs_post_init__(self) -> None:
        version_tuple(self.min_version)  # a typo in the table fails at import

    def needing(self, version: str) -> Operation:
        """This operation with a request that needs at least ``version`` (a field added later)."""
        wanted = at_least(self.min_version, version)
        return self if wanted == self.min_version else attrs.evolve(self, min_version=wanted)


def _parent_ops(
    rows: tuple[tuple[str, str, str, str, str], ...],
) -> Iterator[Operation]:
    """Each capsule operation and its pipeline twin, from ``(name, method, path, version,
    official)`` rows whose path starts with ``{parent}`` and whose official name says
    ``capsule`` where the twin says ``pipeline``."""
    for name, method, path, version, official in rows:
        for kind, id_name, noun in (
            ("capsules", "capsule_id", "capsule"),
            ("pipelines", "pipeline_id", "pipeline"),
        ):
            since = version if kind == "capsules" else at_least(version, PIPELINES_SINCE)
            yield Operation(
                name=f"{kind}.{name}",
                method=method,
                path=path.format(parent=f"{kind}/{{{id_name}}}", kind=kind),
                min_version=since,
                official=f"{kind}.{official.format(noun=noun)}",
            )


_PARENTS = (
    ("get", "GET", "{parent}", "2.18.0", "get_{noun}"),
    ("delete", "DELETE", "{parent}", "3.9.0", "delete_{noun}"),
    ("get_app_panel", "GET", "{parent}/app_panel", "3.9.0", "get_{noun}_app_panel"),
    ("list_computations", "GET", "{parent}/computations", "2.18.0", "list_computations"),
    ("get_permissions", "GET", "{parent}/permissions", "4.3.0", "get_permissions"),
    ("update_permissions", "POST", "{parent}/permissions", "3.2.0", "update_permissions"),
    ("attach_data_assets", "POST", "{parent}/data_assets", "2.18.0", "attach_data_assets"),
    ("detach_data_assets", "DELETE", "{parent}/data_assets/", "2.18.0", "detach_data_assets"),
    ("sync", "POST", "{parent}/sync", "4.6.0", "sync_{noun}"),
    ("release", "POST", "{parent}/release", "4.8.0", "release_{noun}"),
    ("get_release_job", "GET", "{parent}/release/{{job_id}}", "4.8.0", "get_release_job"),
    ("archive", "PATCH", "{parent}/archive", "3.9.0", "archive_{noun}"),
    ("search", "POST", "{kind}/search", "3.1.0", "search_{noun}s"),
)

_COMPUTATION = "computations/{computation_id}"
_DATA_ASSET = "data_assets/{data_asset_id}"
_AUG_2026 = "August 2026"

_OTHERS = (
    Operation("computations.get", "GET", _COMPUTATION, "2.18.0", "computations.get_computation"),
    Operation("computations.run", "POST", "computations", "2.18.0", "computations.run_capsule"),
    Operation(
        "computations.attach_data_assets",
        "POST",
        f"{_COMPUTATION}/data_assets",
        "4.2.0",
        "computations.attach_data_assets",
    ),
    Operation(
        "computations.detach_data_assets",
        "DELETE",
        f"{_COMPUTATION}/data_assets/",
        "4.2.0",
        "computations.detach_data_assets",
    ),
    Operation(
        "computations.list_results",
        "POST",
        f"{_COMPUTATION}/results",
        "2.18.0",
        "computations.list_computation_results",
    ),
    Operation(
        "computations.get_result_file_urls",
        "GET",
        f"{_COMPUTATION}/results/urls",
        "4.0.0",
        "computations.get_result_file_urls",
    ),
    Operation(
        "computations.get_result_file_download_url",
        "GET",
        f"{_COMPUTATION}/results/download_url",
        "2.18.0",
        "computations.get_result_file_download_url",
        deprecated=_AUG_2026,
    ),
    Operation(
        "computations.delete", "DELETE", _COMPUTATION, "2.18.0", "computations.delete_computation"
    ),
    Operation(
        "computations.rename", "PATCH", _COMPUTATION, "3.1.0", "computations.rename_computation"
    ),
    Operation("data_assets.get", "GET", _DATA_ASSET, "2.18.0", "data_assets.get_data_asset"),
    Operation(
        "data_assets.update_metadata", "PUT", _DATA_ASSET, "2.18.0", "data_assets.update_metadata"
    ),
    Operation(
        "data_assets.create", "POST", "data_assets", "2.18.0", "data_assets.create_data_asset"
    ),
    Operation(
        "data_assets.delete", "DELETE", _DATA_ASSET, "2.18.0", "data_assets.delete_data_asset"
    ),
    Operation(
        "data_assets.update_permissions",
        "POST",
        f"{_DATA_ASSET}/permissions",
        "2.18.0",
        "data_assets.update_permissions",
    ),
    Operation(
        "data_assets.get_permissions",
        "GET",
        f"{_DATA_ASSET}/permissions",
        "4.3.0",
        "data_assets.get_permissions",
    ),
    Operation(
        "data_assets.archive",
        "PATCH",
        f"{_DATA_ASSET}/archive",
        "2.18.0",
        "data_assets.archive_data_asset",
    ),
    Operation(
        "data_assets.search",
        "POST",
        "data_assets/search",
        "3.1.0",
        "data_assets.search_data_assets",
    ),
    Operation(
        "data_assets.list_files",
        "POST",
        f"{_DATA_ASSET}/files",
        "3.1.0",
        "data_assets.list_data_asset_files",
    ),
    Operation(
        "data_assets.get_file_urls",
        "GET",
        f"{_DATA_ASSET}/files/urls",
        "4.0.0",
        "data_assets.get_data_asset_file_urls",
    ),
    Operation(
        "data_assets.get_file_download_url",
        "GET",
        f"{_DATA_ASSET}/files/download_url",
        "3.1.0",
        "data_assets.get_data_asset_file_download_url",
        deprecated=_AUG_2026,
    ),
    Operation(
        "data_assets.transfer",
        "POST",
        f"{_DATA_ASSET}/transfer",
        "3.1.0",
        "data_assets.transfer_data_asset",
    ),
    Operation(
        "custom_metadata.get",
        "GET",
        "custom_metadata",
        "3.9.0",
        "custom_metadata.get_custom_metadata",
    ),
)

#: Every operation of the official SDK 0.17 (api.md §1: 48), by this SDK's name.
OPERATIONS: Mapping[str, Operation] = {op.name: op for op in (*_parent_ops(_PARENTS), *_OTHERS)}


def operation(name: str) -> Operation:
    """The operation called ``name`` (``KeyError`` naming it if there is none)."""
    try:
        return OPERATIONS[name]
    except KeyError:
        raise KeyError(f"no operation {name!r}") from None
