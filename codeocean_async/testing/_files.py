"""The fake's file trees: each computation's results and each data asset's files (the bytes
are kept by the storage host, ``_storage``)."""

from __future__ import annotations

from typing import Any

from ._storage import FakeStorage

__all__ = ["FileTrees", "default_results", "normal_path"]


def normal_path(path: str) -> str:
    """``path`` as the trees key it: no leading, trailing or doubled ``/``."""
    return "/".join(part for part in path.split("/") if part)


def default_results(computation_id: str) -> dict[str, bytes]:
    """The results a finished computation has when none were seeded: its log and one file."""
    log = f"Run of computation {computation_id}\nDone.\n".encode()
    return {"output": log, "results/summary.csv": b"sample,reads\nA,100\nB,250\n"}


class FileTrees:
    """Files by area (``"results"``, ``"data_assets"``) and owner ID: each file's path and
    size; their bytes are objects of ``storage`` keyed ``area/owner/path``."""

    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage
        self._trees: dict[tuple[str, str], dict[str, int]] = {}

    def seeded(self, area: str, owner_id: str) -> bool:
        return (area, owner_id) in self._trees

    def add(self, area: str, owner_id: str, path: str, content: bytes) -> None:
        """Store a file at ``path`` (its folders appear with it)."""
        key = normal_path(path)
        if not key:
            raise ValueError("a file needs a path, e.g. 'output' or 'results/plot.png'")
        if not isinstance(content, bytes | bytearray):
            raise TypeError(f"content must be bytes, not {type(content).__name__}")
        tree = self._trees.setdefault((area, owner_id), {})
        parts = key.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in tree:
                raise ValueError(f"{'/'.join(parts[:depth])!r} is a file, not a folder")
        if any(other.startswith(key + "/") for other in tree):
            raise ValueError(f"{key!r} is a folder, not a file")
        tree[key] = len(content)
        self.storage.put(f"{area}/{owner_id}/{key}", bytes(content))

    def kind(self, area: str, owner_id: str, path: str) -> str | None:
        """``"file"``, ``"folder"`` or ``None`` (nothing there); the root is a folder."""
        key, tree = normal_path(path), self._trees.get((area, owner_id), {})
        if not key:
            return "folder"
        if key in tree:
            return "file"
        return "folder" if any(other.startswith(key + "/") for other in tree) else None

    def listing(self, area: str, owner_id: str, path: str) -> list[dict[str, Any]]:
        """The items of the folder at ``path`` (which must be one), folders first, by name."""
        key, tree = normal_path(path), self._trees.get((area, owner_id), {})
        prefix = key + "/" if key else ""
        files: dict[str, dict[str, Any]] = {}
        folders: dict[str, dict[str, Any]] = {}
        for other, size in tree.items():
            if not other.startswith(prefix):
                continue
            name, below, _ = other[len(prefix) :].partition("/")
            if below:
                folders[name] = {"name": name, "path": prefix + name, "type": "folder"}
            else:
                files[name] = {"name": name, "path": other, "type": "file", "size": size}
        return [folders[n] for n in sorted(folders)] + [files[n] for n in sorted(files)]

    def sign(self, area: str, owner_id: str, path: str, *, disposition: str) -> str:
        return self.storage.sign(f"{area}/{owner_id}/{normal_path(path)}", disposition=disposition)
