"""Searching capsules and pipelines: the search request and one page of its answer."""

from __future__ import annotations

import attrs

from ._enums import OpenEnum
from ._request import RequestModel, as_tuple, optional, optional_list
from .capsules import Capsule, CapsuleStatus
from .shared import Ownership, SearchFilter, SortOrder, search_limit, search_offset

__all__ = ["CapsuleSearchParams", "CapsuleSearchResults", "CapsuleSortBy"]


class CapsuleSortBy(OpenEnum):
    """What a capsule search sorts by."""

    CREATED = "created"
    LAST_ACCESSED = "last_accessed"
    NAME = "name"


@attrs.frozen(kw_only=True)
class CapsuleSearchParams(RequestModel):
    """``POST /capsules/search`` (or ``/pipelines/search``): every field optional.

    ``query`` (fields ``name:``, ``tag:``, ``id:``... and free text), ``limit`` (the page size,
    1 to 1000; the server's default is 100), ``next_token`` (the page after another; ``offset``
    is ignored with it), ``sort_field`` and ``sort_order``, and the filters ``ownership``,
    ``status``, ``favorite``, ``archived`` and ``filters``.
    """

    query: str | None = attrs.field(default=None, validator=optional(str))
    next_token: str | None = attrs.field(default=None, validator=optional(str))
    offset: int | None = attrs.field(default=None, validator=search_offset)
    limit: int | None = attrs.field(default=None, validator=search_limit)
    sort_field: CapsuleSortBy | None = attrs.field(
        default=None, converter=attrs.converters.optional(CapsuleSortBy)
    )
    sort_order: SortOrder | None = attrs.field(
        default=None, converter=attrs.converters.optional(SortOrder)
    )
    ownership: Ownership | None = attrs.field(
        default=None, converter=attrs.converters.optional(Ownership)
    )
    status: CapsuleStatus | None = attrs.field(
        default=None, converter=attrs.converters.optional(CapsuleStatus)
    )
    favorite: bool | None = attrs.field(default=None, validator=optional(bool))
    archived: bool | None = attrs.field(default=None, validator=optional(bool))
    filters: tuple[SearchFilter, ...] | None = attrs.field(
        default=None, converter=as_tuple, validator=optional_list(SearchFilter)
    )


@attrs.frozen(kw_only=True)
class CapsuleSearchResults:
    """One page of a capsule (or pipeline) search; ``next_token`` asks for the next."""

    results: tuple[Capsule, ...] = ()
    has_more: bool = False
    next_token: str | None = None
