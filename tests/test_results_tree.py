"""iter_results / iter_files: the whole tree, one folder per listing, at most ``concurrency``
listings at once, a plain iterator that leaves nothing running when left early."""

from __future__ import annotations

import anyio
import httpx
import pytest

import codeocean_async as co
from codeocean_async._tree import FolderWalk
from codeocean_async.testing import FakeCodeOcean

pytestmark = pytest.mark.anyio

FILES = [
    "output",
    "a/1.txt",
    "a/2.txt",
    "a/x/deep.txt",
    "a/x/y/deeper.txt",
    "b/3.txt",
    "c/4.txt",
    "d/5.txt",
    "e/6.txt",
]


@pytest.fixture
def run_id(codeocean_fake: FakeCodeOcean) -> str:
    codeocean_fake.add_computation(id="comp-1")
    for path in FILES:
        codeocean_fake.add_result_file("comp-1", path, path.encode())
    return "comp-1"


async def test_every_item_with_its_path_breadth_first(
    client_by_either_route: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    items = [item async for item in client_by_either_route.computations.iter_results(run_id)]
    assert [(i.path, i.type) for i in items] == [
        ("a", "folder"),
        ("b", "folder"),
        ("c", "folder"),
        ("d", "folder"),
        ("e", "folder"),
        ("output", "file"),
        ("a/x", "folder"),
        ("a/1.txt", "file"),
        ("a/2.txt", "file"),
        ("b/3.txt", "file"),
        ("c/4.txt", "file"),
        ("d/5.txt", "file"),
        ("e/6.txt", "file"),
        ("a/x/y", "folder"),
        ("a/x/deep.txt", "file"),
        ("a/x/y/deeper.txt", "file"),
    ]
    listed = [r.body["path"] for r in codeocean_fake.requests]
    assert sorted(listed) == ["", "a", "a/x", "a/x/y", "b", "c", "d", "e"]
    assert {r.method for r in codeocean_fake.requests} == {"POST"}


async def test_a_subtree_and_data_asset_files(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    below = [i.path async for i in client.computations.iter_results(run_id, "a/x")]
    assert below == ["a/x/y", "a/x/deep.txt", "a/x/y/deeper.txt"]
    codeocean_fake.add_data_asset(id="asset-1")
    codeocean_fake.add_data_asset_file("asset-1", "r/s/t.txt", b"t")
    assert [i.path async for i in client.data_assets.iter_files("asset-1")] == [
        "r",
        "r/s",
        "r/s/t.txt",
    ]


class _Counting(httpx.AsyncBaseTransport):
    """The fake's transport, each listing held a moment, counting how many are in flight."""

    def __init__(self, fake: FakeCodeOcean) -> None:
        self._inner = fake.transport()
        self.in_flight = 0
        self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return await self._inner.handle_async_request(request)
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            await anyio.sleep(0.01)
            return await self._inner.handle_async_request(request)
        finally:
            self.in_flight -= 1


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_listings_are_bounded(
    codeocean_fake: FakeCodeOcean, run_id: str, concurrency: int
) -> None:
    counting = _Counting(codeocean_fake)
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=codeocean_fake.token,
        transport=counting,
        allow_insecure_http=True,
    ) as client:
        walk = client.computations.iter_results(run_id, concurrency=concurrency)
        paths = [item.path async for item in walk]
    assert len(paths) == 16
    assert counting.most == concurrency  # five folders wait on the second wave: the bound holds
    assert isinstance(walk, FolderWalk)
    assert walk.listings == 8


async def test_leaving_early_leaves_nothing_running(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    async for item in client.computations.iter_results(run_id, concurrency=2):
        assert item.path == "a"
        break
    await anyio.sleep(0.02)
    assert len(codeocean_fake.requests) == 1  # the root only: no listing goes on behind


async def test_a_failed_listing_raises_itself_and_cancels_the_wave() -> None:
    cancelled: list[str] = []

    async def list_folder(path: str) -> co.Folder:
        if path == "":
            return co.Folder(
                items=tuple(co.FolderItem(name=n, path=n, type="folder") for n in "abc")
            )
        if path == "b":
            raise co.ResponseValidationError("bad listing")
        try:
            await anyio.sleep(10)
        except anyio.get_cancelled_exc_class():
            cancelled.append(path)
            raise
        raise AssertionError("not cancelled")

    walk = FolderWalk(list_folder, concurrency=8)
    seen = [await walk.__anext__() for _ in range(3)]
    assert [i.path for i in seen] == ["a", "b", "c"]
    with pytest.raises(co.ResponseValidationError, match="bad listing"):
        await walk.__anext__()
    assert sorted(cancelled) == ["a", "c"]
    with pytest.raises(StopAsyncIteration):
        await walk.__anext__()


async def test_a_folder_listed_as_its_own_child_ends() -> None:
    async def list_folder(path: str) -> co.Folder:
        return co.Folder(items=(co.FolderItem(name="loop", path="loop", type="folder"),))

    items = [item.path async for item in FolderWalk(list_folder)]
    assert items == ["loop", "loop"]


async def test_a_caller_deadline_cancels_the_listings() -> None:
    async def slow(path: str) -> co.Folder:
        await anyio.sleep(10)
        raise AssertionError("not cancelled")

    with anyio.move_on_after(0.05) as scope:
        async for _ in FolderWalk(slow):
            pass
    assert scope.cancelled_caught
