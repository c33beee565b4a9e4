"""Downloads and capped reads through signed URLs, in process: the bytes, the progress, the
destination, the storage's refusals, and the token that never reaches the storage host."""

from __future__ import annotations

from pathlib import Path

import pytest

import codeocean_async as co
from codeocean_async.testing import FakeCodeOcean, ManualClock

pytestmark = pytest.mark.anyio

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"
BLOB = bytes(range(256)) * 40  # 10 KiB, every byte value


@pytest.fixture
def client(client_by_either_route: co.AsyncCodeOcean) -> co.AsyncCodeOcean:
    return client_by_either_route


@pytest.fixture
def run_id(codeocean_fake: FakeCodeOcean) -> str:
    codeocean_fake.add_computation(id="comp-1")
    codeocean_fake.add_result_file("comp-1", "output", "héllo wörld\n".encode() * 3)
    codeocean_fake.add_result_file("comp-1", "data/blob.bin", BLOB)
    codeocean_fake.add_result_file("comp-1", "empty.txt", b"")
    return "comp-1"


def entries(directory: Path) -> list[Path]:
    """What ``directory`` holds (a temporary file left behind would show)."""
    return sorted(directory.iterdir())


def _never_saw_the_token(fake: FakeCodeOcean) -> None:
    received = fake.storage.requests
    assert received, "the storage host was not asked"
    for request in received:
        assert "authorization" not in request.headers
        assert "min-server-version" not in request.headers
        assert "agent-id" not in request.headers
        assert not any(fake.token in value for value in request.headers.values())


async def test_download_to_a_directory_keeps_the_name(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str, tmp_path: Path
) -> None:
    progress: list[tuple[int, int | None]] = []
    written = await client.computations.download_result(
        run_id,
        "data/blob.bin",
        tmp_path,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert written == tmp_path / "blob.bin"
    assert written.read_bytes() == BLOB
    assert entries(tmp_path) == [written]  # no temporary file left
    assert progress[0] == (0, len(BLOB))
    assert progress[-1] == (len(BLOB), len(BLOB))
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    _never_saw_the_token(codeocean_fake)


async def test_download_to_a_file_path(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str, tmp_path: Path
) -> None:
    dest = tmp_path / "log.txt"
    dest.write_bytes(b"an older copy")
    written = await client.computations.download_result(run_id, "output", str(dest))
    assert written == dest
    assert dest.read_bytes() == "héllo wörld\n".encode() * 3
    assert await client.computations.download_result(run_id, "empty.txt", tmp_path) == (
        tmp_path / "empty.txt"
    )
    assert (tmp_path / "empty.txt").read_bytes() == b""


async def test_download_into_a_missing_directory_is_refused(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await client.computations.download_result(run_id, "output", tmp_path / "no" / "x")
    assert codeocean_fake.requests == []


async def test_data_asset_files_download_and_read(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, tmp_path: Path
) -> None:
    codeocean_fake.add_data_asset(id=ASSET)
    codeocean_fake.add_data_asset_file(ASSET, "reads/a.txt", b"ACGT" * 10)
    written = await client.data_assets.download_file(ASSET, "reads/a.txt", tmp_path)
    assert written.read_bytes() == b"ACGT" * 10
    assert await client.data_assets.read_file_text(ASSET, "reads/a.txt", max_bytes=6) == "ACGTAC"
    items = [item.path async for item in client.data_assets.iter_files(ASSET)]
    assert items == ["reads", "reads/a.txt"]
    _never_saw_the_token(codeocean_fake)


async def test_read_result_text_caps_what_it_reads(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    whole = "héllo wörld\n" * 3
    assert await client.computations.read_result_text(run_id, "output") == whole
    assert await client.computations.read_result_text(run_id, "output", max_bytes=5) == "héll"
    # "é" is two bytes: cut in two at the limit it is dropped, not shown as a replacement
    assert await client.computations.read_result_text(run_id, "output", max_bytes=2) == "h"
    assert await client.computations.read_result_text(run_id, "empty.txt") == ""
    size = len(whole.encode())
    assert await client.computations.read_result_text(run_id, "output", max_bytes=size) == whole
    ranges = [r.headers.get("range") for r in codeocean_fake.storage.requests]
    assert ranges[:3] == ["bytes=0-999999", "bytes=0-4", "bytes=0-1"]
    latin = await client.computations.read_result_text(
        run_id, "output", max_bytes=3, encoding="latin-1"
    )
    assert latin == "hÃ©"
    _never_saw_the_token(codeocean_fake)


async def test_undecodable_bytes_are_replaced(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str
) -> None:
    assert await client.computations.read_result_text(run_id, "data/blob.bin", max_bytes=130) == (
        bytes(range(128)).decode() + "\ufffd\ufffd"
    )


async def test_an_expired_url_is_refused_without_showing_its_signature(
    codeocean_fake: FakeCodeOcean, client: co.AsyncCodeOcean, run_id: str, tmp_path: Path
) -> None:
    urls = await client.computations.get_result_file_urls(run_id, "output")
    signature = urls.download_url.rpartition("Signature=")[2]
    clock = codeocean_fake.clock
    assert isinstance(clock, ManualClock)
    clock.advance(codeocean_fake.storage.lifetime + 1)
    from codeocean_async._download import download_to

    with pytest.raises(co.PermissionDeniedError) as caught:
        await download_to(client._http, urls.download_url, tmp_path / "out")
    error = caught.value
    assert error.status_code == 403
    assert "expired" in str(error)
    for text in (str(error), repr(error), error.url, str(error.response.request.url)):
        assert signature not in text
    assert error.url.endswith("/results/comp-1/output?[redacted]")
    assert entries(tmp_path) == []


async def test_storage_refuses_a_request_carrying_the_token(
    codeocean_fake: FakeCodeOcean, client: co.AsyncCodeOcean, run_id: str
) -> None:
    """The fake storage is strict: a client that leaked Code Ocean's header would fail."""
    import httpx

    urls = await client.computations.get_result_file_urls(run_id, "output")
    async with httpx.AsyncClient(transport=codeocean_fake.transport()) as leaky:
        refused = await leaky.get(urls.download_url, auth=(codeocean_fake.token, ""))
        served = await leaky.get(urls.download_url)
        tampered = await leaky.get(urls.download_url.replace("comp-1/output", "comp-1/empty.txt"))
    assert refused.status_code == 403
    assert served.status_code == 200
    assert tampered.status_code == 403
    assert codeocean_fake.storage.requests[0].headers["authorization"].startswith("Basic ")


async def test_a_missing_object_is_not_found(
    codeocean_fake: FakeCodeOcean, client: co.AsyncCodeOcean, tmp_path: Path
) -> None:
    from codeocean_async._download import download_to

    url = codeocean_fake.storage.sign("results/nowhere/file")
    with pytest.raises(co.NotFoundError, match="does not exist"):
        await download_to(client._http, url, tmp_path / "file")
    assert entries(tmp_path) == []


async def test_a_closed_client_downloads_nothing(
    codeocean_fake: FakeCodeOcean, run_id: str, tmp_path: Path
) -> None:
    client = co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),
        allow_insecure_http=True,
    )
    await client.aclose()
    with pytest.raises(co.ClientClosedError):
        await client.computations.download_result(run_id, "output", tmp_path)


async def test_an_async_progress_callback_is_awaited(
    client: co.AsyncCodeOcean, run_id: str, tmp_path: Path
) -> None:
    seen: list[int] = []

    async def progress(done: int, total: int | None) -> None:
        seen.append(done)

    await client.computations.download_result(run_id, "output", tmp_path, on_progress=progress)
    assert seen[0] == 0
    assert seen[-1] == len("héllo wörld\n".encode() * 3)


async def test_a_path_naming_no_file_is_refused(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, run_id: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="names no file"):
        await client.computations.download_result(run_id, "data/..", tmp_path)
    assert codeocean_fake.requests == []


async def test_none_of_a_callers_client_settings_reach_storage(
    codeocean_fake: FakeCodeOcean, run_id: str, tmp_path: Path
) -> None:
    """A caller's httpx client with its own headers and hooks: Code Ocean's requests go
    through all of it; the storage request goes to its transport bare."""
    import httpx

    hooked: list[str] = []

    async def hook(request: httpx.Request) -> None:
        hooked.append(str(request.url.host))
        request.headers["x-from-hook"] = "1"

    async with (
        httpx.AsyncClient(
            transport=codeocean_fake.transport(),
            headers={"x-team": "genomics"},
            event_hooks={"request": [hook]},
        ) as caller,
        co.AsyncCodeOcean(
            domain="http://codeocean.test",
            token=codeocean_fake.token,
            http_client=caller,
            allow_insecure_http=True,
        ) as client,
    ):
        written = await client.computations.download_result(run_id, "output", tmp_path)
    assert written.read_bytes().startswith("héllo".encode())
    (request,) = codeocean_fake.storage.requests
    assert {"authorization", "x-team", "x-from-hook"}.isdisjoint(request.headers)
    assert hooked == ["codeocean.test"]  # the hook saw the Code Ocean request only


async def test_a_signed_url_that_is_not_one_is_a_validation_error(tmp_path: Path) -> None:
    import httpx

    from .conftest import mock_client

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"download_url": "http://[::1", "view_url": "x"})

    async with mock_client(handler) as client:
        with pytest.raises(co.ResponseValidationError, match="not a URL"):
            await client.computations.download_result("comp-1", "output", tmp_path)
    assert entries(tmp_path) == []
