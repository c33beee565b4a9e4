"""The command line's data commands: results, downloads, captures, data assets and searches.

``results`` lists a computation's results (one folder, or the whole tree with ``--recursive``);
``download`` streams one result file to disk (a progress bar on a terminal); ``capture`` makes a
computation's results a data asset and waits until it is ready; ``data-assets get`` and
``data-assets search``, ``capsules search`` (``--pipelines`` for pipelines). Each prints a table
or key/value lines, or with ``--json`` one JSON document.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ._cli_format import iso_utc, one_line, table
from ._cli_output import Exit, Output, UsageError
from ._cli_parser import check_id_arg, check_timeout_arg

if TYPE_CHECKING:
    from ._client import AsyncCodeOcean
    from .models import DataAsset
    from .models.shared import FolderItem

__all__ = ["DATA_COMMANDS", "add_data_commands"]

_SEARCH_LIMIT = 100  # the API's default page size
_BAR = 30


def add_data_commands(
    commands: Any, add: Callable[[Any, str, str, str], argparse.ArgumentParser]
) -> None:
    """Add the data commands to the parser's ``commands`` (``add`` makes one subcommand)."""
    results = add(commands, "results", "results", "list a computation's results")
    results.add_argument("computation_id", metavar="ID", help="the computation id")
    results.add_argument("path", metavar="PATH", nargs="?", default="", help="a folder in them")
    results.add_argument("--recursive", "-r", action="store_true", help="the whole tree below")

    download = add(commands, "download", "download", "download one result file of a computation")
    download.add_argument("computation_id", metavar="ID", help="the computation id")
    download.add_argument("path", metavar="PATH", help="the file's path in the results")
    download.add_argument(
        "dest", metavar="DEST", nargs="?", default=".", help="a file or folder (default: here)"
    )
    download.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds")

    capture = add(commands, "capture", "capture", "capture a computation's results as a data asset")
    capture.add_argument("computation_id", metavar="ID", help="the computation id")
    capture.add_argument("--name", required=True, help="the data asset's name")
    capture.add_argument("--mount", required=True, help="where runs mount it")
    capture.add_argument("--tag", action="append", default=[], help="a tag (repeatable)")
    capture.add_argument("--description", help="the data asset's description")
    capture.add_argument("--no-wait", action="store_true", help="do not wait until it is ready")
    capture.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds")

    assets = commands.add_parser("data-assets", help="data assets")
    assets_commands = assets.add_subparsers(title="commands", metavar="COMMAND", required=True)
    get = add(assets_commands, "get", "data-assets get", "print a data asset's metadata")
    get.add_argument("data_asset_id", metavar="ID", help="the data asset id")
    _search_arguments(add(assets_commands, "search", "data-assets search", "search data assets"))

    capsules = commands.add_parser("capsules", help="search capsules or pipelines")
    capsules_commands = capsules.add_subparsers(title="commands", metavar="COMMAND", required=True)
    search = add(capsules_commands, "search", "capsules search", "search capsules")
    _search_arguments(search)
    search.add_argument("--pipelines", action="store_true", help="search pipelines instead")


def _search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", metavar="QUERY", nargs="?", help="what to look for")
    parser.add_argument(
        "--limit", type=int, default=_SEARCH_LIMIT, metavar="N", help="at most N results"
    )
    parser.add_argument("--all", action="store_true", help="every result, page after page")


# --- commands ----------------------------------------------------------------------------------


async def _results(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    computation_id = check_id_arg(args.computation_id, "computation id")
    if args.recursive:
        items = [i async for i in client.computations.iter_results(computation_id, args.path)]
    else:
        items = list((await client.computations.list_results(computation_id, args.path)).items)
    if ui.json_mode:
        ui.document(items)
    elif not items:
        ui.line(f"No results at {args.path or '/'} for {computation_id}.")
    else:
        _items_table(ui, items)
    return Exit.OK


def _items_table(ui: Output, items: Sequence[FolderItem]) -> None:
    rows = [(item.type, "" if item.size is None else str(item.size), item.path) for item in items]
    for text in table(("TYPE", "SIZE", "PATH"), rows):
        ui.line(text)


class _Progress:
    """A progress bar on a terminal's stderr, redrawn at most ten times a second."""

    def __init__(self, err: TextIO, name: str) -> None:
        self._err = err
        self._name = name
        self._shown = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._shown < 0.1 and (total is None or done < total):
            return
        self._shown = now
        if total:
            filled = _BAR * done // total
            bar = f"[{'#' * filled}{'.' * (_BAR - filled)}] {100 * done // total:3d}%"
        else:
            bar = f"{done:,} bytes"
        self._err.write(f"\r{self._name}  {bar}")
        self._err.flush()

    def end(self) -> None:
        if self._shown:
            self._err.write("\n")
            self._err.flush()


async def _download(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    computation_id = check_id_arg(args.computation_id, "computation id")
    if not args.path.strip("/"):
        raise UsageError("PATH must name a file in the results")
    timeout = check_timeout_arg(args.timeout)
    progress = _Progress(ui.err, args.path) if ui.err.isatty() and not ui.json_mode else None
    try:
        saved = await client.computations.download_result(
            computation_id, args.path, Path(args.dest), timeout=timeout, on_progress=progress
        )
    finally:
        if progress is not None:
            progress.end()
    if ui.json_mode:
        ui.document({"computation_id": computation_id, "path": args.path, "saved": str(saved)})
    else:
        ui.line(str(saved))
    return Exit.OK


async def _capture(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    computation_id = check_id_arg(args.computation_id, "computation id")
    timeout = check_timeout_arg(args.timeout)
    if timeout is not None and args.no_wait:
        raise UsageError("--timeout applies only without --no-wait")
    for flag, value in (("--name", args.name), ("--mount", args.mount)):
        if not value.strip():
            raise UsageError(f"{flag} must not be empty")
    asset = await client.data_assets.capture(
        computation_id,
        name=args.name,
        mount=args.mount,
        tags=list(args.tag) or None,
        description=args.description,
        wait=not args.no_wait,
        timeout=timeout,
    )
    _data_asset(ui, asset)
    return Exit.OK


async def _data_assets_get(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    asset_id = check_id_arg(args.data_asset_id, "data asset id")
    _data_asset(ui, await client.data_assets.get(asset_id))
    return Exit.OK


def _data_asset(ui: Output, asset: DataAsset) -> None:
    if ui.json_mode:
        ui.document(asset)
        return
    fields = [
        ("name", asset.name),
        ("id", asset.id),
        ("state", str(asset.state)),
        ("type", str(asset.type)),
        ("mount", asset.mount),
        ("owner", asset.owner_email or asset.owner),
        ("created", iso_utc(asset.created)),
        ("size", None if asset.size is None else f"{asset.size:,} bytes"),
        ("files", None if asset.files is None else str(asset.files)),
        ("tags", ", ".join(asset.tags or ())),
        ("description", asset.description),
        ("failure", asset.failure_reason),
    ]
    for key, value in fields:
        if value:
            ui.line(f"{key:<12} {one_line(value)}")


def _check_limit(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 1000:
        raise UsageError(f"--limit must be a whole number from 1 to 1000, not {args.limit}")
    return int(args.limit)


async def _search(
    routes: Any, args: argparse.Namespace, ui: Output, state: Callable[[Any], str]
) -> int:
    limit = _check_limit(args)
    fields: dict[str, Any] = {"limit": limit}
    if args.query:
        fields["query"] = args.query
    if args.all:
        found = [item async for item in routes.iter_search(**fields)]
    else:
        found = list((await routes.search(**fields)).results)[:limit]
    if ui.json_mode:
        ui.document(found)
    elif not found:
        ui.line("Nothing found.")
    else:
        rows = [(i.id, one_line(i.name), state(i), iso_utc(i.created)) for i in found]
        for text in table(("ID", "NAME", "STATE", "CREATED (UTC)"), rows):
            ui.line(text)
    return Exit.OK


async def _data_assets_search(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    return await _search(client.data_assets, args, ui, lambda a: str(a.state))


async def _capsules_search(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    routes = client.pipelines if args.pipelines else client.capsules
    return await _search(routes, args, ui, lambda c: str(c.status))


#: Subcommand -> handler, joined into ``cli.COMMANDS``.
DATA_COMMANDS = {
    "results": _results,
    "download": _download,
    "capture": _capture,
    "data-assets get": _data_assets_get,
    "data-assets search": _data_assets_search,
    "capsules search": _capsules_search,
}
