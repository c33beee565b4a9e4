"""Results and files: a computation's results and a data asset's files (listings, URLs,
downloads), as mixins of ``Computations`` and ``DataAssets``.

Both areas are one implementation (``_FileRoutes``) over their own operations (``_Area``):
``computations/{id}/results...`` and ``data_assets/{id}/files...``.
"""

from __future__ import annotations

import codecs
import os
import warnings
from collections.abc import AsyncIterator
from math import inf
from pathlib import Path

import attrs

from .._download import OnProgress, download_to, read_text
from .._operations import operation
from .._tree import FolderWalk
from ..models.shared import DownloadFileURL, FileURLs, Folder, FolderItem
from ._base import Resource

__all__ = ["ComputationResults", "DataAssetFiles", "OnProgress"]


@attrs.frozen
class _Area:
    """One area's operations: ``list_op``, ``urls_op``, ``old_op`` (the deprecated URL), the
    path parameter's name and the replacement a deprecation warning names."""

    list_op: str
    urls_op: str
    old_op: str
    id_name: str
    replacement: str


def _file_path(path: object) -> str:
    if not isinstance(path, str) or not path.strip("/"):
        raise ValueError(f"path must name a file (a non-empty string), not {path!r}")
    return path


def _check_timeout(timeout: object) -> None:
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < inf:
        raise ValueError(f"timeout must be None or seconds > 0, not {timeout!r}")


def _destination(dest: str | os.PathLike[str], path: str) -> Path:
    """``dest`` as the file to write: a directory keeps the file's own name."""
    target = Path(dest)
    if target.is_dir():
        name = path.rstrip("/").rpartition("/")[2]
        if name in (".", ".."):
            raise ValueError(f"{path!r} names no file to write in {str(target)!r}")
        target = target / name
    if not target.parent.is_dir():
        raise FileNotFoundError(f"the directory of {str(target)!r} does not exist")
    return target


class _FileRoutes(Resource):
    """The routes computations' results and data assets' files share."""

    _area: _Area

    async def _list(self, owner_id: str, path: str) -> Folder:
        if not isinstance(path, str):
            raise TypeError(f"path must be a string, not {type(path).__name__}")
        return await self._http.call(
            operation(self._area.list_op),
            path_params={self._area.id_name: owner_id},
            body={"path": path},
            cast_to=Folder,
            idempotent=True,  # a POST, but it only reads: safe to send again
        )

    async def _urls(self, owner_id: str, path: str) -> FileURLs:
        return await self._http.call(
            operation(self._area.urls_op),
            path_params={self._area.id_name: owner_id},
            params={"path": _file_path(path)},
            cast_to=FileURLs,
        )

    async def _old_url(self, owner_id: str, path: str) -> DownloadFileURL:
        op = operation(self._area.old_op)
        warnings.warn(
            f"{op.name} is deprecated (Code Ocean supports it until {op.deprecated}): "
            f"use {self._area.replacement}, whose download_url replaces it",
            DeprecationWarning,
            stacklevel=3,
        )
        return await self._http.call(
            op,
            path_params={self._area.id_name: owner_id},
            params={"path": _file_path(path)},
            cast_to=DownloadFileURL,
        )

    def _walk(self, owner_id: str, path: str, concurrency: int) -> AsyncIterator[FolderItem]:
        async def list_folder(folder: str) -> Folder:
            return await self._list(owner_id, folder)

        return FolderWalk(list_folder, path, concurrency=concurrency)

    async def _download(
        self,
        owner_id: str,
        path: str,
        dest: str | os.PathLike[str],
        timeout: float | None,
        on_progress: OnProgress | None,
    ) -> Path:
        _check_timeout(timeout)
        target = _destination(dest, _file_path(path))
        urls = await self._urls(owner_id, path)
        return await download_to(
            self._http, urls.download_url, target, timeout=timeout, on_progress=on_progress
        )

    async def _read_text(
        self, owner_id: str, path: str, max_bytes: int, encoding: str, timeout: float | None
    ) -> str:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError(f"max_bytes must be an int >= 1, not {max_bytes!r}")
        _check_timeout(timeout)
        codecs.lookup(encoding)  # LookupError for an unknown encoding, before any request
        urls = await self._urls(owner_id, path)
        return await read_text(
            self._http, urls.download_url, max_bytes=max_bytes, encoding=encoding, timeout=timeout
        )


_RESULTS = _Area(
    "computations.list_results",
    "computations.get_result_file_urls",
    "computations.get_result_file_download_url",
    "computation_id",
    "computations.get_result_file_urls",
)
_FILES = _Area(
    "data_assets.list_files",
    "data_assets.get_file_urls",
    "data_assets.get_file_download_url",
    "data_asset_id",
    "data_assets.get_file_urls",
)


class ComputationResults(_FileRoutes):
    """The results routes of ``client.computations``."""

    _area = _RESULTS

    async def list_results(self, computation_id: str, path: str = "") -> Folder:
        """One folder of the computation's results (``""``: the ``/results`` root), not
        recursive (see ``iter_results``). ``POST /computations/{id}/results`` with
        ``{"path": path}``: a read, so it is retried like a GET."""
        return await self._list(computation_id, path)

    async def get_result_file_urls(self, computation_id: str, path: str) -> FileURLs:
        """Signed, short-lived URLs to download and view one result file (Code Ocean 4.0+).
        ``GET /computations/{id}/results/urls?path=...``."""
        return await self._urls(computation_id, path)

    async def get_result_file_download_url(self, computation_id: str, path: str) -> DownloadFileURL:
        """Deprecated (Code Ocean supports it until August 2026; warns ``DeprecationWarning``):
        use ``get_result_file_urls``. ``GET /computations/{id}/results/download_url?path=``."""
        return await self._old_url(computation_id, path)

    def iter_results(
        self, computation_id: str, path: str = "", *, concurrency: int = 8
    ) -> AsyncIterator[FolderItem]:
        """Every file and folder under ``path`` of the results, folder by folder (at most
        ``concurrency`` listings at once), breadth first::

            async for item in client.computations.iter_results(run.id):
                if not item.is_folder:
                    print(item.path, item.size)

        Leaving the loop early leaves nothing running.
        """
        return self._walk(computation_id, path, concurrency)

    async def download_result(
        self,
        computation_id: str,
        path: str,
        dest: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        on_progress: OnProgress | None = None,
    ) -> Path:
        """Download one result file to ``dest`` (a file, or an existing directory: then the
        file keeps its name) and return where it was written.

        The file comes from its signed ``download_url``, never sent Code Ocean's headers (the
        token stays with Code Ocean). It is written to a temporary file beside ``dest`` and
        renamed at the end, so a failed or cancelled download leaves nothing behind.
        ``timeout``: seconds for the whole transfer; ``None`` sets no deadline on it (a large
        file may take hours), and each read is still bounded by the client's read timeout. The
        request for the signed URL has the client's retry budget, as every API request.
        ``on_progress(bytes_so_far, total_or_None)`` is called as it goes.
        A refusal by storage raises the ``APIStatusError`` of its status, a transport failure
        ``APIConnectionError``; neither shows the URL's signature.
        """
        return await self._download(computation_id, path, dest, timeout, on_progress)

    async def read_result_text(
        self,
        computation_id: str,
        path: str,
        *,
        max_bytes: int = 1_000_000,
        encoding: str = "utf-8",
        timeout: float | None = None,
    ) -> str:
        """A result file as text, e.g. the ``output`` log: at most its first ``max_bytes``.

        A longer file is cut there without error: the text is its first ``max_bytes`` decoded
        with ``errors="replace"`` (a character cut in two at the limit is dropped). Only those
        bytes are asked of storage (a ``Range`` request). Compare ``FolderItem.size`` with
        ``max_bytes`` to know whether it was cut.
        """
        return await self._read_text(computation_id, path, max_bytes, encoding, timeout)


class DataAssetFiles(_FileRoutes):
    """The files routes of ``client.data_assets`` (internal data assets only: an external
    one's files are in its own bucket)."""

    _area = _FILES

    async def list_files(self, data_asset_id: str, path: str = "") -> Folder:
        """One folder of the data asset's files (``""``: its root), not recursive (see
        ``iter_files``). ``POST /data_assets/{id}/files`` with ``{"path": path}`` (a read)."""
        return await self._list(data_asset_id, path)

    async def get_file_urls(self, data_asset_id: str, path: str) -> FileURLs:
        """Signed, short-lived URLs to download and view one file (Code Ocean 4.0+).
        ``GET /data_assets/{id}/files/urls?path=...``."""
        return await self._urls(data_asset_id, path)

    async def get_file_download_url(self, data_asset_id: str, path: str) -> DownloadFileURL:
        """Deprecated (Code Ocean supports it until August 2026; warns ``DeprecationWarning``):
        use ``get_file_urls``. ``GET /data_assets/{id}/files/download_url?path=...``."""
        return await self._old_url(data_asset_id, path)

    def iter_files(
        self, data_asset_id: str, path: str = "", *, concurrency: int = 8
    ) -> AsyncIterator[FolderItem]:
        """Every file and folder under ``path`` of the data asset, as ``iter_results``."""
        return self._walk(data_asset_id, path, concurrency)

    async def download_file(
        self,
        data_asset_id: str,
        path: str,
        dest: str | os.PathLike[str],
        *,
        timeout: float | None = None,
        on_progress: OnProgress | None = None,
    ) -> Path:
        """Download one file of the data asset to ``dest``, as ``download_result`` does."""
        return await self._download(data_asset_id, path, dest, timeout, on_progress)

    async def read_file_text(
        self,
        data_asset_id: str,
        path: str,
        *,
        max_bytes: int = 1_000_000,
        encoding: str = "utf-8",
        timeout: float | None = None,
    ) -> str:
        """One file of the data asset as text, at most ``max_bytes``, as ``read_result_text``."""
        return await self._read_text(data_asset_id, path, max_bytes, encoding, timeout)
