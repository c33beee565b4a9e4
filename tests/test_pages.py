"""The one paginator (``_pages.Pages``), driven by plain callables: every result, page by page."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import attrs
import pytest

import codeocean_async as co
from codeocean_async._pages import Pages

pytestmark = pytest.mark.anyio


@attrs.frozen
class _Page:
    results: tuple[int, ...]
    has_more: bool
    next_token: str | None = None


def _server(
    pages: list[_Page],
) -> tuple[list[str | None], Callable[[str | None], Awaitable[_Page]]]:
    asked: list[str | None] = []

    async def fetch(token: str | None) -> _Page:
        asked.append(token)
        return pages[len(asked) - 1]

    return asked, fetch


async def test_every_result_of_every_page_in_order_one_page_at_a_time() -> None:
    asked, fetch = _server(
        [_Page((1, 2), True, "t1"), _Page((), True, "t2"), _Page((3,), False, "ignored")]
    )
    pages: Pages[int] = Pages(fetch)
    assert await pages.__anext__() == 1
    assert asked == [None]  # the second page is not asked for before the first is used up
    assert [item async for item in pages] == [2, 3]
    assert asked == [None, "t1", "t2"]
    assert pages.pages == 3


async def test_leaving_early_asks_for_no_further_page() -> None:
    asked, fetch = _server([_Page((1, 2), True, "t1"), _Page((3,), False)])
    async for item in Pages(fetch):
        assert item == 1
        break
    assert asked == [None]


@pytest.mark.parametrize(
    "second",
    [_Page((2,), True, None), _Page((2,), True, ""), _Page((2,), True, "t1")],
    ids=["no token", "empty token", "same token"],
)
async def test_has_more_without_a_new_token_is_an_answer_that_does_not_fit(second: _Page) -> None:
    _, fetch = _server([_Page((1,), True, "t1"), second, _Page((3,), False)])
    seen: list[int] = []
    pages = Pages(fetch, what="capsules.iter_search")
    seen.append(await pages.__anext__())
    with pytest.raises(co.ResponseValidationError, match="it would never end") as caught:
        await pages.__anext__()
    assert seen == [1]  # the first page's results were delivered before the bad page
    assert "capsules.iter_search: page 2" in str(caught.value)
