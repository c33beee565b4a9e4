"""Every result of a paginated search, one page at a time: the one paginator of the package.

Code Ocean's searches (capsules, pipelines, data assets) answer a page of ``results`` with
``has_more`` and an opaque ``next_token``; the next page is the same search with that token.
``Pages`` follows them as an async iterator over the results, asking for a page only when the
one before is used up. It is a plain iterator, not an async generator, and holds no request
between steps, so leaving an ``async for`` early needs no clean-up (and trio has nothing to warn
about). A server that says ``has_more`` without a new token would loop forever: that answer is a
``ResponseValidationError``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from ._errors import ResponseValidationError

__all__ = ["Page", "Pages"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Page(Protocol[T_co]):
    """One page of a search's answer."""

    @property
    def results(self) -> Sequence[T_co]: ...

    @property
    def has_more(self) -> bool: ...

    @property
    def next_token(self) -> str | None: ...


#: Fetch the page after ``next_token`` (``None``: the first page).
FetchPage = Callable[[str | None], Awaitable[Page[T]]]


class Pages(Generic[T]):
    """Async iterator over every result of a search, fetching page after page (``fetch``)."""

    def __init__(self, fetch: FetchPage[T], *, what: str = "search") -> None:
        self._fetch = fetch
        self._what = what
        self._buffer: deque[T] = deque()
        self._token: str | None = None
        self._seen: set[str] = set()
        self._done = False
        #: Pages fetched so far.
        self.pages = 0

    def __aiter__(self) -> Pages[T]:
        return self

    async def __anext__(self) -> T:
        while not self._buffer:
            if self._done:
                raise StopAsyncIteration
            await self._next_page()
        return self._buffer.popleft()

    async def _next_page(self) -> None:
        page = await self._fetch(self._token)
        self.pages += 1
        self._buffer = deque(page.results)
        if not page.has_more:
            self._done = True
            return
        token = page.next_token
        if not token or token in self._seen:
            said = "no next_token" if not token else f"the next_token {token!r} again"
            raise ResponseValidationError(
                f"{self._what}: page {self.pages} says has_more with {said} (it would never end)",
                errors=(f"{said} @ $.next_token",),
            )
        self._seen.add(token)
        self._token = token
