"""Fetching a signed storage URL: a file streamed to disk, or its first bytes read as text.

Code Ocean answers a file's ``download_url`` signed for its storage (S3-style: the credentials
are in the query string). The SDK's ``Authorization``, ``Min-Server-Version`` and ``Agent-Id``
headers must never go there, so the request is built here from the URL alone and handed
straight to the engine under the client's httpx client (``HTTPPipeline.engine_for``: its pool,
TLS and proxy settings, none of its headers, auth, cookies or hooks). Failures become the
tree's errors with the query string (the signature) cleared from every message and URL. A
download goes to a temporary file beside ``dest``, renamed at the end: a failed or cancelled
one leaves neither a partial file nor the temporary one.
"""

from __future__ import annotations

import codecs
import contextlib
import inspect
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import anyio
import httpx

from ._config import ERROR_BODY_MAX
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    ResponseValidationError,
)
from ._http import HTTPPipeline
from ._redact import Secrets
from ._status import error_from_response, shorten
from ._trace import STREAM_BODY
from ._version import __version__

__all__ = ["OnProgress", "SignedURL", "download_to", "read_text"]

#: Told ``(bytes_so_far, total)`` as a download advances (``total``: ``None`` when unknown);
#: a coroutine function is awaited.
OnProgress = Callable[[int, int | None], object]

_HEADERS = {"accept-encoding": "identity", "user-agent": f"codeocean-async/{__version__}"}
_DRAIN_SECONDS = 5.0


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: A downloaded file's mode, as ``open()`` would have made it (``mkstemp`` makes it private).
_FILE_MODE = 0o666 & ~_umask()
_RANGE_NOT_SATISFIABLE = 416  # S3's answer to a range over an empty object


class SignedURL:
    """A signed URL, and how it is shown: without its query string (the signature)."""

    def __init__(self, url: str) -> None:
        try:
            self.url = httpx.URL(url)
        except httpx.InvalidURL:
            raise ResponseValidationError(
                "the signed download_url Code Ocean answered is not a URL",
                errors=("not a URL @ $.download_url",),
            ) from None
        query = self.url.query.decode("ascii", "replace")
        bare = str(self.url.copy_with(query=None, fragment=None))
        #: The URL as every message and error shows it.
        self.shown = f"{bare}?[redacted]" if query else bare
        values = [value for _, value in self.url.params.multi_items()]
        self.secrets = Secrets((query, *values))

    def connection_error(self, exc: httpx.TransportError) -> APIConnectionError:
        """The tree's error for a transport failure on the way to storage."""
        self.secrets.chain(exc)
        detail = shorten(" ".join(self.secrets.text(str(exc)).split()), 200)
        cls = APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
        return cls(
            f"GET {self.shown} (storage) failed: {type(exc).__name__}: {detail}",
            request=httpx.Request("GET", self.shown),
        )

    async def status_error(
        self, response: httpx.Response, chunks: AsyncIterator[bytes]
    ) -> APIStatusError:
        """The tree's error for storage's non-2xx answer (at most ``ERROR_BODY_MAX`` read)."""
        kept = b""
        with contextlib.suppress(httpx.TransportError):
            async for chunk in chunks:
                kept += chunk
                if len(kept) >= ERROR_BODY_MAX:
                    break
        headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-length"]
        if response.headers.get("content-encoding", "identity") != "identity":
            headers = [(k, v) for k, v in headers if k != "content-encoding"]
            kept = b""  # not decoded here: the status says enough
        cleared = httpx.Response(
            response.status_code,
            headers=headers,
            content=kept[:ERROR_BODY_MAX],
            request=httpx.Request("GET", self.shown),
        )
        return error_from_response(cleared, self.secrets)


@asynccontextmanager
async def _opened(
    http: HTTPPipeline, signed: SignedURL, headers: dict[str, str]
) -> AsyncIterator[tuple[httpx.Response, AsyncIterator[bytes]]]:
    """The storage's answer to a bare GET of ``signed``, and its body's chunks (as on the
    wire when it is not encoded), closed on the way out however the block ends."""
    if http.closed:
        raise ClientClosedError("this AsyncCodeOcean client is closed; create a new one")
    request = httpx.Request(
        "GET",
        signed.url,
        headers={**_HEADERS, **headers},
        extensions={"timeout": http.timeout.as_dict(), STREAM_BODY: True},
    )
    try:
        response = await http.engine_for(signed.url).handle_async_request(request)
    except httpx.TransportError as exc:
        raise signed.connection_error(exc) from exc
    response.request = request
    encoded = response.headers.get("content-encoding", "identity") != "identity"
    chunks = response.aiter_bytes() if encoded else response.aiter_raw()
    try:
        yield response, chunks
    except httpx.TransportError as exc:
        raise signed.connection_error(exc) from exc
    finally:
        # Closed (the connection with it, the rest unread), then run to its end, which comes
        # at once: every async generator of httpx's chain finishes, none is left suspended
        # (trio warns of those), however the block ended.
        with anyio.CancelScope(shield=True), anyio.move_on_after(_DRAIN_SECONDS):
            with contextlib.suppress(Exception):
                await response.aclose()
            with contextlib.suppress(Exception):
                async for _ in chunks:
                    pass


@contextlib.contextmanager
def _deadline(timeout: float | None, signed: SignedURL, what: str) -> Iterator[None]:
    """``timeout`` seconds for the whole of it (``None``: the network timeouts alone)."""
    if timeout is None:
        yield
        return
    try:
        with anyio.fail_after(timeout):
            yield
    except TimeoutError:
        raise APITimeoutError(
            f"GET {signed.shown} (storage): {what} not done within {timeout:g} s (timeout=)",
            request=httpx.Request("GET", signed.shown),
        ) from None


async def _tell(on_progress: OnProgress | None, size: int, total: int | None) -> None:
    if on_progress is not None:
        told = on_progress(size, total)
        if inspect.isawaitable(told):
            await told


def _total(response: httpx.Response) -> int | None:
    length = response.headers.get("content-length")
    if response.headers.get("content-encoding", "identity") != "identity":
        return None
    return int(length) if length is not None and length.isdigit() else None


async def download_to(
    http: HTTPPipeline,
    url: str,
    dest: Path,
    *,
    timeout: float | None = None,
    on_progress: OnProgress | None = None,
) -> Path:
    """Stream ``url``'s body to the file ``dest`` (its directory must exist), atomically."""
    signed = SignedURL(url)
    make = partial(tempfile.mkstemp, dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    descriptor, temporary = await anyio.to_thread.run_sync(make)
    done = False
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, _FILE_MODE)
        with os.fdopen(descriptor, "wb") as file, _deadline(timeout, signed, "the download"):
            async with _opened(http, signed, {}) as (response, chunks):
                if not response.is_success:
                    raise await signed.status_error(response, chunks)
                total, size = _total(response), 0
                await _tell(on_progress, 0, total)
                async for chunk in chunks:
                    await anyio.to_thread.run_sync(file.write, chunk)
                    size += len(chunk)
                    await _tell(on_progress, size, total)
                if total is not None and size != total:
                    raise APIConnectionError(
                        f"GET {signed.shown} (storage): the body ended after {size} of "
                        f"{total} bytes",
                        request=httpx.Request("GET", signed.shown),
                    )
        await anyio.to_thread.run_sync(os.replace, temporary, dest)
        done = True
    finally:
        if not done:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
    return dest


async def read_text(
    http: HTTPPipeline,
    url: str,
    *,
    max_bytes: int,
    encoding: str,
    timeout: float | None = None,
) -> str:
    """The first ``max_bytes`` of ``url``'s body, decoded (``errors="replace"``). A character
    cut in two at the limit is dropped, not replaced."""
    signed = SignedURL(url)
    kept = bytearray()
    more = False
    with _deadline(timeout, signed, "the read"):
        ask = {"range": f"bytes=0-{max_bytes - 1}"}
        async with _opened(http, signed, ask) as (response, chunks):
            if response.status_code == _RANGE_NOT_SATISFIABLE:
                return ""
            if not response.is_success:
                raise await signed.status_error(response, chunks)
            async for chunk in chunks:
                kept += chunk
                if len(kept) >= max_bytes:
                    more = len(kept) > max_bytes or _longer(response, max_bytes)
                    break
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(bytes(kept[:max_bytes]), final=not more)


def _longer(response: httpx.Response, max_bytes: int) -> bool:
    """Whether the whole file is longer than the ``max_bytes`` read (a ``Content-Range``'s
    total, else a 200's length; unknown counts as longer)."""
    if response.status_code == 206:
        total = response.headers.get("content-range", "").rpartition("/")[2]
        return not total.isdigit() or int(total) > max_bytes
    length = _total(response)
    return length is None or length > max_bytes
