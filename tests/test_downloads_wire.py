"""Downloads over real sockets, on both engines: a whole results tree from the fake and its
storage host (which never receives the token), and storage that breaks the body, stalls, ignores
``Range`` or refuses, each leaving no file behind."""

from __future__ import annotations

import stat
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest

import codeocean_async as co
from codeocean_async._transport import Engine
from codeocean_async.testing import FakeCodeOcean, serve_in_thread

from .wire_server import CLOSE, Request, Step, WireServer, response, serve

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_proxies")]

TREE = {
    "output": b"step 1\nstep 2\ndone\n",
    "figures/plot.png": b"\x89PNG" + bytes(range(256)) * 8,
    "figures/deep/table.csv": b"a,b\n1,2\n",
    "figures/deep/deeper/note.txt": b"",
    "summary.json": b'{"ok": true}',
}


def entries(directory: Path) -> list[Path]:
    """What ``directory`` holds (a temporary file left behind would show)."""
    return sorted(directory.iterdir())


def files_under(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*") if p.is_file()
    }


@contextmanager
def served(fake: FakeCodeOcean, storage_url: str | None = None) -> Iterator[str]:
    """The fake on a socket, its storage on another (or at ``storage_url``)."""
    if storage_url is not None:
        fake.storage.base_url = storage_url
        with serve_in_thread(fake) as url:
            yield url
        return
    with serve_in_thread(fake.storage) as storage, serve_in_thread(fake) as url:
        fake.storage.base_url = storage
        yield url


@asynccontextmanager
async def client_on(
    url: str, fake: FakeCodeOcean, engine: Engine, **kwargs: object
) -> AsyncIterator[co.AsyncCodeOcean]:
    async with co.AsyncCodeOcean(
        domain=url,
        token=fake.token,
        engine=engine,
        agent_id="agent-7",
        retry=co.RetryPolicy.none(),
        **kwargs,  # type: ignore[arg-type]
    ) as client:
        yield client


async def test_a_results_tree_downloads_and_storage_never_sees_the_token(
    engine: Engine, tmp_path: Path
) -> None:
    fake = FakeCodeOcean()
    run = fake.add_computation()
    for path, content in TREE.items():
        fake.add_result_file(run["id"], path, content)
    with served(fake) as url:
        async with client_on(url, fake, engine) as client:
            async for item in client.computations.iter_results(run["id"], concurrency=2):
                target = tmp_path / item.path
                if item.is_folder:
                    target.mkdir()
                else:
                    await client.computations.download_result(run["id"], item.path, target)
            text = await client.computations.read_result_text(run["id"], "output", max_bytes=6)
    assert text == "step 1"
    assert files_under(tmp_path) == TREE
    received = fake.storage.requests
    assert len(received) == len(TREE) + 1
    for request in received:
        assert {"authorization", "min-server-version", "agent-id"}.isdisjoint(request.headers)
        assert not any(fake.token in value for value in request.headers.values())
    assert all(r.auth_ok and r.headers["agent-id"] == "agent-7" for r in fake.requests)


@contextmanager
def storage_serving(*steps: Step) -> Iterator[WireServer]:
    def handler(request: Request) -> Iterator[Step]:
        yield from steps

    with serve(handler) as server:
        yield server


def _head(length: int, status: int = 200, reason: str = "OK") -> bytes:
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/octet-stream\r\n"
        f"content-length: {length}\r\n\r\n"
    ).encode()


async def _download_from(
    storage: WireServer, engine: Engine, tmp_path: Path, **kwargs: object
) -> None:
    fake = FakeCodeOcean()
    run = fake.add_computation()
    with served(fake, storage.url) as url:
        async with client_on(url, fake, engine) as client:
            await client.computations.download_result(
                run["id"],
                "output",
                tmp_path / "output",
                **kwargs,  # type: ignore[arg-type]
            )


async def test_a_body_cut_midway_leaves_no_file(engine: Engine, tmp_path: Path) -> None:
    with (
        storage_serving(_head(10_000), b"x" * 3000, CLOSE) as storage,
        pytest.raises(co.APIConnectionError) as caught,
    ):
        await _download_from(storage, engine, tmp_path)
    assert "Signature" not in str(caught.value)
    assert "[redacted]" in str(caught.value)
    assert entries(tmp_path) == []
    (request,) = storage.requests
    assert "authorization" not in request.headers


async def test_a_stalled_download_times_out_and_leaves_no_file(
    engine: Engine, tmp_path: Path
) -> None:
    progress: list[int] = []
    with storage_serving(_head(10_000), b"x" * 3000, 5.0) as storage:
        started = time.monotonic()
        with pytest.raises(co.APITimeoutError, match=r"not done within 0\.3 s"):
            await _download_from(
                storage, engine, tmp_path, timeout=0.3, on_progress=lambda n, _: progress.append(n)
            )
    assert time.monotonic() - started < 3
    if engine == "httpx":  # (aiohttp's engine hands over the answer in larger reads)
        assert progress[-1] == 3000
    assert entries(tmp_path) == []


async def test_the_network_timeouts_apply_to_each_read(engine: Engine, tmp_path: Path) -> None:
    fake = FakeCodeOcean()
    run = fake.add_computation()
    with storage_serving(_head(10), b"xx", 5.0) as storage, served(fake, storage.url) as url:
        async with client_on(url, fake, engine, timeout=0.3) as client:
            with pytest.raises(co.APITimeoutError):
                await client.computations.download_result(run["id"], "output", tmp_path)
    assert entries(tmp_path) == []


async def test_a_refusal_from_storage_is_its_status_error(engine: Engine, tmp_path: Path) -> None:
    page = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    refusal = response(403, page, headers={"content-type": "application/xml"}, reason="Forbidden")
    with (
        storage_serving(refusal) as storage,
        pytest.raises(co.PermissionDeniedError, match="Request has expired") as caught,
    ):
        await _download_from(storage, engine, tmp_path)
    assert "X-Fake-Signature" not in str(caught.value)
    assert caught.value.url.endswith("?[redacted]")
    assert entries(tmp_path) == []


async def test_a_capped_read_stops_early_when_storage_ignores_range(engine: Engine) -> None:
    fake = FakeCodeOcean()
    run = fake.add_computation()
    big = 4_000_000
    with (
        storage_serving(_head(big), b"y" * 65536, b"z" * (big - 65536)) as storage,
        served(fake, storage.url) as url,
    ):
        async with client_on(url, fake, engine) as client:
            text = await client.computations.read_result_text(run["id"], "output", max_bytes=10)
    assert text == "y" * 10
    assert storage.requests[0].headers["range"] == "bytes=0-9"


async def test_a_large_file_streams_to_disk_in_pieces_on_either_engine(
    engine: Engine, tmp_path: Path
) -> None:
    # The aiohttp engine reads small API answers whole before handing them over; a download
    # must not be read so: its progress comes piece by piece, never the whole file at once.
    fake = FakeCodeOcean()
    run = fake.add_computation()
    blob = bytes(range(256)) * 16_384  # 4 MiB
    fake.add_result_file(run["id"], "big.bin", blob)
    seen: list[int] = []
    with served(fake) as url:
        async with client_on(url, fake, engine) as client:
            saved = await client.computations.download_result(
                run["id"], "big.bin", tmp_path, on_progress=lambda done, _: seen.append(done)
            )
    assert saved.read_bytes() == blob
    assert seen[0] == 0
    assert seen[-1] == len(blob)
    assert len(seen) > 4  # pieces, not one read of the whole body
    assert seen[1] < len(blob)


async def test_a_downloaded_file_has_the_mode_open_would_give_it(tmp_path: Path) -> None:
    # mkstemp makes its file private (0600); the file kept is made as open() would make it.
    fake = FakeCodeOcean()
    run = fake.add_computation()
    fake.add_result_file(run["id"], "output", b"ok\n")
    async with co.AsyncCodeOcean(
        domain="http://codeocean.test",
        token=fake.token,
        transport=fake.transport(),
        allow_insecure_http=True,
    ) as client:
        saved = await client.computations.download_result(run["id"], "output", tmp_path)
    written_by_open = tmp_path / "by_open"
    written_by_open.write_bytes(b"")
    assert stat.S_IMODE(saved.stat().st_mode) == stat.S_IMODE(written_by_open.stat().st_mode)
