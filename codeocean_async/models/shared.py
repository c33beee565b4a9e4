"""Models every area shares: permissions, search filters and order, folders and file URLs, and
the data assets attached to a capsule, pipeline or cloud workstation."""

from __future__ import annotations

from typing import Any

import attrs

from ._enums import OpenEnum
from ._request import RequestModel, as_tuple, optional, optional_list

__all__ = [
    "MAX_SEARCH_LIMIT",
    "DataAssetAttachParams",
    "DataAssetAttachResults",
    "DownloadFileURL",
    "EveryoneRole",
    "FileURLs",
    "Folder",
    "FolderItem",
    "GroupPermissions",
    "GroupRole",
    "Ownership",
    "Permissions",
    "SearchFilter",
    "SearchFilterRange",
    "SortOrder",
    "UserPermissions",
    "UserRole",
    "search_limit",
    "search_offset",
]


#: The largest page a search answers (``limit``).
MAX_SEARCH_LIMIT = 1000


def search_limit(_: object, attribute: Any, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"limit must be an int, not {type(value).__name__}")
    if not 1 <= value <= MAX_SEARCH_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_SEARCH_LIMIT}, not {value}")


def search_offset(_: object, attribute: Any, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"offset must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"offset must be >= 0, not {value}")


class UserRole(OpenEnum):
    """A user's role on a capsule, pipeline or data asset."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


class GroupRole(OpenEnum):
    """A group's role."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"
    DISCOVERABLE = "discoverable"


class EveryoneRole(OpenEnum):
    """What everyone on the deployment may do."""

    VIEWER = "viewer"
    DISCOVERABLE = "discoverable"
    NONE = "none"


class SortOrder(OpenEnum):
    """A search's order (used only with a sort field)."""

    ASC = "asc"
    DESC = "desc"


class Ownership(OpenEnum):
    """Whose items a search returns."""

    PRIVATE = "private"
    SHARED = "shared"
    CREATED = "created"


@attrs.frozen(kw_only=True)
class UserPermissions(RequestModel):
    """One user's role, by e-mail."""

    email: str = attrs.field(validator=attrs.validators.instance_of(str))
    role: UserRole = attrs.field(converter=UserRole)


@attrs.frozen(kw_only=True)
class GroupPermissions(RequestModel):
    """One group's role."""

    group: str = attrs.field(validator=attrs.validators.instance_of(str))
    role: GroupRole = attrs.field(converter=GroupRole)


@attrs.frozen(kw_only=True)
class Permissions(RequestModel):
    """Who may do what (read with ``get_permissions``, sent with ``update_permissions``).

    ``share_assets``: also share the attached data assets (and a pipeline's capsules).
    """

    users: tuple[UserPermissions, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(UserPermissions)
    )
    groups: tuple[GroupPermissions, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(GroupPermissions)
    )
    everyone: EveryoneRole | None = attrs.field(
        default=None, converter=attrs.converters.optional(EveryoneRole)
    )
    share_assets: bool | None = attrs.field(default=None, validator=optional(bool))


@attrs.frozen(kw_only=True)
class SearchFilterRange(RequestModel):
    """A numeric range for a search filter."""

    min: float = attrs.field(validator=attrs.validators.instance_of((int, float)))
    max: float = attrs.field(validator=attrs.validators.instance_of((int, float)))


@attrs.frozen(kw_only=True)
class SearchFilter(RequestModel):
    """One filter of a search: ``key`` (``name``, ``description``, ``tags`` or a custom field)
    with a ``value``, any of ``values``, or a ``range``; ``exclude`` inverts it."""

    key: str = attrs.field(validator=attrs.validators.instance_of(str))
    value: str | float | None = attrs.field(default=None, validator=optional((str, int, float)))
    values: tuple[str | float, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list((str, int, float))
    )
    range: SearchFilterRange | None = attrs.field(
        default=None, validator=optional(SearchFilterRange)
    )
    exclude: bool | None = attrs.field(default=None, validator=optional(bool))


@attrs.frozen(kw_only=True)
class FolderItem:
    """A file or folder in a listing: ``type`` is ``"file"`` or ``"folder"``."""

    name: str
    path: str
    type: str
    size: int | None = None

    @property
    def is_folder(self) -> bool:
        return self.type == "folder"


@attrs.frozen(kw_only=True)
class Folder:
    """One level of a results or data asset folder (the API lists one folder per call)."""

    items: tuple[FolderItem, ...] = ()


@attrs.frozen(kw_only=True)
class FileURLs:
    """Signed, short-lived URLs of one file: to download it, and to view it in a browser."""

    download_url: str
    view_url: str


@attrs.frozen(kw_only=True)
class DownloadFileURL:
    """The deprecated single download URL (supported by the platform until August 2026)."""

    url: str


@attrs.frozen
class DataAssetAttachParams(RequestModel):
    """A data asset to attach: ``DataAssetAttachParams("asset-id", mount="input")``."""

    id: str = attrs.field(validator=attrs.validators.instance_of(str))
    mount: str | None = attrs.field(default=None, kw_only=True, validator=optional(str))


@attrs.frozen(kw_only=True)
class DataAssetAttachResults:
    """What attaching one data asset did."""

    id: str
    mount_state: str | None = None
    job_id: str | None = None
    external: bool | None = None
    ready: bool | None = None
    mount: str | None = None
