"""The shortcuts taken for speed decide as the long way would: ID checks, httpx's pool shards."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from codeocean_async._ids import check_id
from codeocean_async._shards import ShardedTransport, _share

_FORBIDDEN = ("/", "?", "#", "\\", "%")


def _slow_check(value: str) -> bool:
    """The character rule of ``check_id``, the long way."""
    return not any(ch in _FORBIDDEN or ch.isspace() or not ch.isprintable() for ch in value)


def _passes(value: str) -> bool:
    try:
        check_id(value, "x")
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("block", range(0, 0x3000, 0x100))
def test_check_id_decides_every_character_as_the_rule_says(block: int) -> None:
    for code in range(block, block + 0x100):
        char = chr(code)
        value = f"a{char}b"
        assert _passes(value) == _slow_check(value), repr(char)


def test_check_id_still_refuses_the_rest() -> None:
    assert check_id("4bc97533-6eb4-48ac-966f-648548a756d2", "x")
    for bad in ("", ".", "..", "a" * 257, "a/b", "a b", "a\x00b", "a%2fb"):
        assert not _passes(bad), bad


def test_the_shards_share_the_limits() -> None:
    share = _share(httpx.Limits(max_connections=64, max_keepalive_connections=32), 16)
    assert (share.max_connections, share.max_keepalive_connections) == (4, 2)
    assert _share(httpx.Limits(max_connections=None), 16).max_connections is None


class _Body(httpx.AsyncByteStream):
    """A body still on its way (as httpcore's are until read): closing it is what counts."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"{}"


@pytest.mark.anyio
async def test_each_request_goes_to_the_least_busy_shard() -> None:
    transport = ShardedTransport(verify=True, limits=httpx.Limits(max_connections=6), shards=3)
    served: list[int] = []

    def shard(number: int) -> httpx.MockTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            served.append(number)
            return httpx.Response(200, stream=_Body())

        return httpx.MockTransport(answer)

    transport._shards = [shard(n) for n in range(3)]  # type: ignore[misc]
    request = httpx.Request("GET", "http://127.0.0.1/")
    open_ = [await transport.handle_async_request(request) for _ in range(3)]
    assert served == [0, 1, 2]  # one each while all are in flight
    await open_[1].aclose()
    await open_[1].aclose()  # closing twice counts out once
    await transport.handle_async_request(request)
    assert served == [0, 1, 2, 1]  # the shard whose answer was closed
    for response in open_:
        await response.aclose()
    await transport.aclose()
