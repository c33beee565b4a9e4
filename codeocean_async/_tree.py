"""Every item of a folder tree the API lists one folder per call (a computation's results, a
data asset's files), with bounded concurrency.

``FolderWalk`` is a plain async iterator, not an async generator, and holds no task between
steps: when its buffer is empty it lists the next wave of folders (at most ``concurrency`` at
once, in one task group that ends before the step returns), so leaving an ``async for`` early
needs no clean-up on asyncio or trio. Items come out breadth first, each folder's in the order
the server listed them, whatever order the listings finished in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable

import anyio

from .models.shared import Folder, FolderItem

__all__ = ["FolderWalk", "ListFolder"]

#: List one folder: its path in, its items out.
ListFolder = Callable[[str], Awaitable[Folder]]


class FolderWalk:
    """Async iterator over every file and folder under ``path`` (each item with its path as
    the server gave it; a folder is listed by that path)."""

    def __init__(self, list_folder: ListFolder, path: str = "", *, concurrency: int = 8) -> None:
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise ValueError(f"concurrency must be an int >= 1, not {concurrency!r}")
        self._list = list_folder
        self._concurrency = concurrency
        self._pending: deque[str] = deque([path])
        self._seen = {path}
        self._buffer: deque[FolderItem] = deque()
        #: Folders listed so far.
        self.listings = 0

    def __aiter__(self) -> FolderWalk:
        return self

    async def __anext__(self) -> FolderItem:
        while not self._buffer:
            if not self._pending:
                raise StopAsyncIteration
            await self._wave()
        return self._buffer.popleft()

    async def _wave(self) -> None:
        """List the next ``concurrency`` folders at once; the first failure is raised as it is
        (the other listings of the wave cancelled), not in an exception group."""
        count = min(len(self._pending), self._concurrency)
        batch = [self._pending.popleft() for _ in range(count)]
        folders: list[Folder | None] = [None] * count
        failures: list[Exception] = []

        async def list_one(index: int, path: str) -> None:
            try:
                folders[index] = await self._list(path)
            except Exception as exc:
                failures.append(exc)
                group.cancel_scope.cancel()

        async with anyio.create_task_group() as group:
            for index, path in enumerate(batch):
                group.start_soon(list_one, index, path)
        if failures:
            self._pending.clear()
            raise failures[0]
        self.listings += count
        for folder in folders:
            for item in folder.items if folder is not None else ():
                self._buffer.append(item)
                if item.is_folder and item.path not in self._seen:  # a loop would never end
                    self._seen.add(item.path)
                    self._pending.append(item.path)
