"""The base of every resource: a handle on the client's request pipeline and defaults."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import AsyncCodeOcean
    from .._http import HTTPPipeline


class Resource:
    """One area of the API (``capsules``, ``computations``, ...), bound to one client."""

    def __init__(self, client: AsyncCodeOcean) -> None:
        self._client = client

    @property
    def _http(self) -> HTTPPipeline:
        return self._client._http

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"
