"""Results and data asset files against the fake: each operation's exact request (method, path,
query, body, Min-Server-Version) and decoded answer, its errors, and the deprecated URL's warning.
"""

from __future__ import annotations

import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, RecordedRequest

pytestmark = pytest.mark.anyio

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


@pytest.fixture
def client(client_by_either_route: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    return client_by_either_route


@pytest.fixture
def run_id(codeocean_fake: FakeCodeOcean) -> str:
    run = codeocean_fake.add_computation(id="comp-1")
    codeocean_fake.add_result_file("comp-1", "output", b"log line\n")
    codeocean_fake.add_result_file("comp-1", "figures/plot.png", b"\x89PNG....")
    codeocean_fake.add_result_file("comp-1", "figures/deep/table.csv", b"a,b\n1,2\n")
    return str(run["id"])


@pytest.fixture
def asset_id(codeocean_fake: FakeCodeOcean) -> str:
    codeocean_fake.add_data_asset(id=ASSET, name="Alignment", mount="Alignment")
    codeocean_fake.add_data_asset_file(ASSET, "reads/sample.bam", b"BAM\x01")
    codeocean_fake.add_data_asset_file(ASSET, "README.md", b"# reads\n")
    return ASSET


def _only(fake: FakeCodeOcean) -> RecordedRequest:
    (request,) = fake.requests
    assert request.auth_ok
    return request


def _sent(fake: FakeCodeOcean) -> tuple[str, str, dict[str, str], object, str | None]:
    r = _only(fake)
    return r.method, r.path, r.query, r.body, r.headers.get("min-server-version")


async def test_list_results_root(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    folder = await client.computations.list_results(run_id)
    assert _sent(codeocean_fake) == (
        "POST",
        "/api/v1/computations/comp-1/results",
        {},
        {"path": ""},
        "2.18.0",
    )
    assert folder == co.Folder(
        items=(
            co.FolderItem(name="figures", path="figures", type="folder"),
            co.FolderItem(name="output", path="output", type="file", size=9),
        )
    )
    assert folder.items[0].is_folder
    assert not folder.items[1].is_folder


async def test_list_results_subfolder(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    folder = await client.computations.list_results(run_id, "figures")
    assert _sent(codeocean_fake)[3] == {"path": "figures"}
    assert [(i.path, i.type, i.size) for i in folder.items] == [
        ("figures/deep", "folder", None),
        ("figures/plot.png", "file", 8),
    ]


async def test_result_file_urls(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    urls = await client.computations.get_result_file_urls(run_id, "figures/plot.png")
    assert _sent(codeocean_fake) == (
        "GET",
        "/api/v1/computations/comp-1/results/urls",
        {"path": "figures/plot.png"},
        None,
        "4.0.0",
    )
    assert isinstance(urls, co.FileURLs)
    storage = codeocean_fake.storage.base_url
    assert urls.download_url.startswith(f"{storage}/results/comp-1/figures/plot.png?")
    assert urls.view_url.startswith(storage)
    assert urls.view_url != urls.download_url


async def test_result_download_url_is_deprecated(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    with pytest.warns(DeprecationWarning, match="August 2026.*get_result_file_urls") as caught:
        found = await client.computations.get_result_file_download_url(run_id, "output")
    assert caught[0].filename == __file__  # the warning points at the caller
    assert _sent(codeocean_fake) == (
        "GET",
        "/api/v1/computations/comp-1/results/download_url",
        {"path": "output"},
        None,
        "2.18.0",
    )
    assert isinstance(found, co.DownloadFileURL)
    assert found.url.startswith(f"{codeocean_fake.storage.base_url}/results/comp-1/output?")


async def test_list_files(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, asset_id: str
) -> None:
    folder = await client.data_assets.list_files(asset_id, "reads")
    assert _sent(codeocean_fake) == (
        "POST",
        f"/api/v1/data_assets/{ASSET}/files",
        {},
        {"path": "reads"},
        "3.1.0",
    )
    assert folder.items == (
        co.FolderItem(name="sample.bam", path="reads/sample.bam", type="file", size=4),
    )


async def test_file_urls(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, asset_id: str
) -> None:
    urls = await client.data_assets.get_file_urls(asset_id, "README.md")
    assert _sent(codeocean_fake) == (
        "GET",
        f"/api/v1/data_assets/{ASSET}/files/urls",
        {"path": "README.md"},
        None,
        "4.0.0",
    )
    assert urls.download_url.startswith(
        f"{codeocean_fake.storage.base_url}/data_assets/{ASSET}/README.md?"
    )


async def test_file_download_url_is_deprecated(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, asset_id: str
) -> None:
    with pytest.warns(DeprecationWarning, match="August 2026.*get_file_urls"):
        found = await client.data_assets.get_file_download_url(asset_id, "README.md")
    assert _sent(codeocean_fake) == (
        "GET",
        f"/api/v1/data_assets/{ASSET}/files/download_url",
        {"path": "README.md"},
        None,
        "3.1.0",
    )
    assert "README.md?" in found.url


async def test_a_finished_run_has_default_results(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    run = codeocean_fake.add_computation()
    folder = await client.computations.list_results(run["id"])
    assert [i.path for i in folder.items] == ["results", "output"]
    text = await client.computations.read_result_text(run["id"], "output")
    assert run["id"] in text


async def test_a_running_computation_has_no_results_yet(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    run = codeocean_fake.add_computation(durations=(10, 10, 10))
    assert (await client.computations.list_results(run["id"])).items == ()


async def test_listing_errors(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    with pytest.raises(co.NotFoundError):
        await client.computations.list_results("no-such-run")
    with pytest.raises(co.NotFoundError):
        await client.computations.list_results(run_id, "nowhere")
    with pytest.raises(co.BadRequestError, match="is a file"):
        await client.computations.list_results(run_id, "output")
    with pytest.raises(co.NotFoundError):
        await client.data_assets.list_files("no-such-asset")


async def test_url_errors(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str, asset_id: str
) -> None:
    with pytest.raises(co.BadRequestError, match="is a folder"):
        await client.computations.get_result_file_urls(run_id, "figures")
    with pytest.raises(co.NotFoundError):
        await client.computations.get_result_file_urls(run_id, "missing.txt")
    with pytest.raises(co.NotFoundError):
        await client.data_assets.get_file_urls(asset_id, "missing.txt")


async def test_bad_arguments_are_refused_before_sending(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    for path in ("", "/"):
        with pytest.raises(ValueError, match="path"):
            await client.computations.get_result_file_urls(run_id, path)
    with pytest.raises(TypeError):
        await client.computations.list_results(run_id, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="computation_id"):
        await client.computations.list_results("a/b")
    with pytest.raises(ValueError, match="max_bytes"):
        await client.computations.read_result_text(run_id, "output", max_bytes=0)
    with pytest.raises(LookupError):
        await client.computations.read_result_text(run_id, "output", encoding="no-such")
    for timeout in (0, -1, float("nan"), float("inf"), "5"):
        with pytest.raises(ValueError, match="timeout"):
            await client.computations.read_result_text(run_id, "output", timeout=timeout)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="timeout"):
            await client.data_assets.download_file("a", "f", ".", timeout=timeout)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="concurrency"):
        client.computations.iter_results(run_id, concurrency=0)
    assert codeocean_fake.requests == []


async def test_listing_is_retried_though_a_post(codeocean_fake: FakeCodeOcean, run_id: str) -> None:
    from codeocean_async.testing import Fault

    codeocean_fake.faults.script("POST", "/computations/*/results", Fault.server_error(503))
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),
        allow_insecure_http=True,
    ) as client:
        folder = await client.computations.list_results(run_id)
    assert len(folder.items) == 2
    assert [r.method for r in codeocean_fake.requests] == ["POST", "POST"]


async def test_an_old_deployment_is_told_what_urls_need(codeocean_fake: FakeCodeOcean) -> None:
    fake = FakeCodeOcean(server_version="3.9.0")
    run = fake.add_computation()
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=fake.transport(),
        allow_insecure_http=True,
    ) as client:
        assert len((await client.computations.list_results(run["id"])).items) == 2
        with pytest.raises(co.ServerVersionError, match=r"4\.0\.0"):
            await client.computations.get_result_file_urls(run["id"], "output")
