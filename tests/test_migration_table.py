"""The README's migration table: every public method of the official SDK 0.17 beside one of
ours that exists (the 48 operations of ``_operations``, then its iterators, waits and aliases)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import codeocean_async as co
from codeocean_async._operations import OPERATIONS

README = Path(__file__).parent.parent / "README.md"

#: The official SDK 0.17's public methods beyond its 48 operations (api.md §1, §3).
HELPERS = {
    "CodeOcean",
    "computations.run_pipeline",
    "computations.wait_until_completed",
    "capsules.search_capsules_iterator",
    "pipelines.search_pipelines_iterator",
    "data_assets.search_data_assets_iterator",
    "capsules.wait_until_release_completed",
    "pipelines.wait_until_release_completed",
    "data_assets.wait_until_ready",
    "capsules.search_capsules_by_data_asset",
    "pipelines.search_pipelines_by_data_asset",
}


def _rows() -> dict[str, str]:
    text = README.read_text()
    section = text.split("## From the official `codeocean` SDK", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        official = re.sub(r"\(.*", "", cells[0].strip("`"))
        rows[official] = cells[1]
    return rows


def test_every_official_method_has_a_row() -> None:
    officials = {op.official for op in OPERATIONS.values()} | HELPERS
    missing = officials - set(_rows())
    assert not missing, f"no row for {sorted(missing)}"


@pytest.mark.anyio
async def test_every_method_the_table_names_exists_on_the_client() -> None:
    async with co.AsyncCodeOcean(domain="https://acme.codeocean.com", token="cop_x") as client:
        named = _check(client)
    assert named >= 60


def _check(client: co.AsyncCodeOcean) -> int:
    named = 0
    for official, ours in _rows().items():
        for name in re.findall(
            r"`((?:capsules|pipelines|computations|data_assets|custom_metadata)\.\w+)", ours
        ):
            area, method = name.split(".")
            assert callable(getattr(getattr(client, area), method, None)), f"{official}: {name}"
            named += 1
    return named
