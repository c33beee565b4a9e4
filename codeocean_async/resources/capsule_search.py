"""Searching capsules and pipelines: one page, every result page by page, and the ones that use
a data asset (a mixin of the routes capsules and pipelines share)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import attrs

from .._ids import check_id
from .._operations import operation
from .._pages import Pages
from ..models.capsule_search import CapsuleSearchParams, CapsuleSearchResults
from ..models.capsules import Capsule
from ..models.parent import ParentKind
from ._base import Resource

__all__ = ["SearchRoutes", "search_params"]


def search_params(
    params: CapsuleSearchParams | None, fields: dict[str, Any]
) -> CapsuleSearchParams:
    """The search to send: ``params``, or one built from the keywords (not both)."""
    if params is None:
        return CapsuleSearchParams(**fields)
    if not isinstance(params, CapsuleSearchParams):
        raise TypeError(f"params must be a CapsuleSearchParams, not {type(params).__name__}")
    if fields:
        raise ValueError("pass either a CapsuleSearchParams or keyword arguments, not both")
    return params


class SearchRoutes(Resource):
    """Search routes under ``/capsules/search`` or ``/pipelines/search`` (``_kind``)."""

    _kind: ParentKind

    async def search(
        self, params: CapsuleSearchParams | None = None, **fields: Any
    ) -> CapsuleSearchResults:
        """One page of a search: ``search(query="tag:ChIP", limit=50)`` or
        ``search(CapsuleSearchParams(...))``. The page's ``next_token`` asks for the next
        (``iter_search`` follows them). ``POST /{capsules|pipelines}/search``.
        """
        return await self._search(search_params(params, fields))

    async def _search(self, params: CapsuleSearchParams) -> CapsuleSearchResults:
        return await self._http.call(
            operation(f"{self._kind}.search"),
            body=params,
            cast_to=CapsuleSearchResults,
            idempotent=True,  # a search only reads
        )

    def iter_search(
        self, params: CapsuleSearchParams | None = None, **fields: Any
    ) -> AsyncIterator[Capsule]:
        """Every result of a search, as an async iterator that asks for a page only when the
        one before is used up (``limit`` is the page size, up to 1000)::

            async for capsule in client.capsules.iter_search(query="tag:ChIP", limit=1000):
                ...
        """
        first = search_params(params, fields)

        async def fetch(token: str | None) -> CapsuleSearchResults:
            return await self._search(
                first if token is None else attrs.evolve(first, next_token=token)
            )

        return Pages(fetch, what=f"{self._kind} search")

    async def search_by_data_asset(self, data_asset_id: str) -> list[Capsule]:
        """Every capsule (or pipeline) that uses the data asset: the search ``query=<ID>``,
        all its pages."""
        check_id(data_asset_id, "data_asset_id")
        return [found async for found in self.iter_search(query=data_asset_id)]
