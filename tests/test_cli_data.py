"""The command line's data commands against the fake: results, download, capture, data assets
and searches, in human and JSON modes, with their exact requests and exit codes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from codeocean_async import AsyncCodeOcean
from codeocean_async.testing import FakeCodeOcean

from .test_cli import invoke

pytestmark = pytest.mark.anyio


@pytest.fixture
def run_id(codeocean_fake: FakeCodeOcean) -> str:
    capsule = codeocean_fake.add_capsule(id="cap-1", name="deepTools")["id"]
    run = codeocean_fake.add_computation(capsule_id=capsule, id="run-1")
    codeocean_fake.add_result_file(run["id"], "output", b"all good\n")
    codeocean_fake.add_result_file(run["id"], "figures/plot.png", b"\x89PNG....")
    return str(run["id"])


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _paths(fake: FakeCodeOcean) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in fake.requests]


async def test_results_lists_one_folder_then_the_whole_tree(
    codeocean_client: AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    top = await invoke(codeocean_client, codeocean_fake, "results", run_id)
    assert top.code == 0
    rows = [line.split() for line in top.out.splitlines()]
    assert rows[0] == ["TYPE", "SIZE", "PATH"]
    assert sorted(rows[1:]) == [["file", "9", "output"], ["folder", "figures"]]
    codeocean_fake.reset_requests()
    tree = await invoke(codeocean_client, codeocean_fake, "results", run_id, "-r", "--json")
    assert tree.code == 0
    paths = sorted(item["path"] for item in tree.json())
    assert paths == ["figures", "figures/plot.png", "output"]
    assert _paths(codeocean_fake) == [("POST", f"/api/v1/computations/{run_id}/results")] * 2


async def test_results_of_a_folder_and_of_nothing(
    codeocean_client: AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    sub = await invoke(codeocean_client, codeocean_fake, "results", run_id, "figures", "--json")
    assert [i["path"] for i in sub.json()] == ["figures/plot.png"]
    assert codeocean_fake.requests[-1].body == {"path": "figures"}
    missing = await invoke(codeocean_client, codeocean_fake, "results", "nope")
    assert missing.code == 3
    assert "404" in missing.err


async def test_download_writes_the_file_and_prints_where(
    codeocean_client: AsyncCodeOcean,
    codeocean_fake: FakeCodeOcean,
    run_id: str,
    tmp_path: Path,
) -> None:
    result = await invoke(
        codeocean_client, codeocean_fake, "download", run_id, "output", str(tmp_path)
    )
    assert result.code == 0
    assert result.out.strip() == str(tmp_path / "output")
    assert (tmp_path / "output").read_bytes() == b"all good\n"
    assert _names(tmp_path) == ["output"]  # no temporary file left
    assert all("authorization" not in r.headers for r in codeocean_fake.storage.requests)
    again = await invoke(
        codeocean_client,
        codeocean_fake,
        "download",
        run_id,
        "output",
        str(tmp_path / "log.txt"),
        "--json",
    )
    assert again.json() == {
        "computation_id": run_id,
        "path": "output",
        "saved": str(tmp_path / "log.txt"),
    }


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_download_shows_a_progress_bar_on_a_terminal_only(
    codeocean_client: AsyncCodeOcean,
    codeocean_fake: FakeCodeOcean,
    run_id: str,
    tmp_path: Path,
) -> None:
    err = _Terminal()
    await invoke(
        codeocean_client, codeocean_fake, "download", run_id, "output", str(tmp_path), err=err
    )
    assert err.getvalue().startswith("\routput  [")
    assert err.getvalue().endswith("100%\n")
    piped = await invoke(
        codeocean_client, codeocean_fake, "download", run_id, "output", str(tmp_path / "b")
    )
    assert piped.err == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("download", "run-1", "/"), "PATH must name a file"),
        (("download", "run-1", "output", ".", "--timeout", "-1"), "--timeout"),
        (("capture", "run-1", "--name", " ", "--mount", "m"), "--name must not be empty"),
        (
            ("capture", "run-1", "--name", "n", "--mount", "m", "--no-wait", "--timeout", "5"),
            "--timeout applies only without --no-wait",
        ),
        (("data-assets", "search", "--limit", "0"), "--limit must be a whole number from 1"),
        (("capsules", "search", "--limit", "1001"), "--limit must be a whole number from 1"),
        (("data-assets", "get", "a/b"), "data asset id"),
    ],
)
async def test_bad_input_is_exit_2_before_any_request(
    codeocean_client: AsyncCodeOcean,
    codeocean_fake: FakeCodeOcean,
    run_id: str,
    argv: tuple[str, ...],
    message: str,
) -> None:
    codeocean_fake.reset_requests()
    result = await invoke(codeocean_client, codeocean_fake, *argv)
    assert result.code == 2
    assert message in result.err
    assert codeocean_fake.requests == []


async def test_capture_waits_until_ready_and_prints_the_data_asset(
    codeocean_client: AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    codeocean_fake.data_asset_delay = 0
    result = await invoke(
        codeocean_client,
        codeocean_fake,
        "capture",
        run_id,
        "--name",
        "Coverage",
        "--mount",
        "coverage",
        "--tag",
        "ChIP",
        "--tag",
        "v2",
    )
    assert result.code == 0
    fields = dict(line.split(None, 1) for line in result.out.splitlines())
    assert (fields["name"], fields["state"], fields["mount"]) == ("Coverage", "ready", "coverage")
    assert fields["tags"] == "ChIP, v2"
    [create] = [r for r in codeocean_fake.requests if r.path == "/api/v1/data_assets"]
    assert create.method == "POST"
    assert create.body["source"] == {"computation": {"id": run_id}}
    assert (create.body["name"], create.body["mount"], create.body["tags"]) == (
        "Coverage",
        "coverage",
        ["ChIP", "v2"],
    )


async def test_capture_without_waiting_and_data_assets_get(
    codeocean_client: AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    made = await invoke(
        codeocean_client,
        codeocean_fake,
        "capture",
        run_id,
        "--name",
        "C",
        "--mount",
        "c",
        "--no-wait",
        "--json",
    )
    asset: dict[str, Any] = made.json()
    assert asset["state"] == "draft"
    got = await invoke(
        codeocean_client, codeocean_fake, "data-assets", "get", asset["id"], "--json"
    )
    assert got.json()["id"] == asset["id"]
    human = await invoke(codeocean_client, codeocean_fake, "data-assets", "get", asset["id"])
    assert human.out.splitlines()[0].split(None, 1) == ["name", "C"]


async def test_searches_one_page_or_every_page(
    codeocean_client: AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    for n in range(5):
        codeocean_fake.add_capsule(name=f"Align {n}")
        codeocean_fake.add_data_asset(name=f"Reads {n}", mount=f"reads{n}")
    page = await invoke(
        codeocean_client, codeocean_fake, "capsules", "search", "Align", "--limit", "2"
    )
    assert page.out.split()[0] == "ID"
    assert len(page.out.splitlines()) == 3  # the header and one page of 2
    codeocean_fake.reset_requests()
    every = await invoke(
        codeocean_client,
        codeocean_fake,
        "capsules",
        "search",
        "Align",
        "--limit",
        "2",
        "--all",
        "--json",
    )
    assert sorted(c["name"] for c in every.json()) == [f"Align {n}" for n in range(5)]
    assert _paths(codeocean_fake) == [("POST", "/api/v1/capsules/search")] * 3
    assets = await invoke(
        codeocean_client, codeocean_fake, "data-assets", "search", "Reads", "--all", "--json"
    )
    assert sorted(a["name"] for a in assets.json()) == [f"Reads {n}" for n in range(5)]
    none = await invoke(
        codeocean_client, codeocean_fake, "capsules", "search", "zzz", "--pipelines"
    )
    assert none.out.strip() == "Nothing found."
    assert codeocean_fake.requests[-1].path == "/api/v1/pipelines/search"
