"""What the fake puts on the wire: answers, fault answers, broken JSON and dropped connections."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any

from ._faults import Fault

__all__ = ["DROPPED", "DROPPED_HEADER", "send_answer", "send_refusal"]

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

#: Marks a response the fake dropped; :meth:`FakeCodeOcean.transport` turns it into an error.
DROPPED_HEADER = b"x-fake-dropped"
#: Set in the serving task when the fake drops a connection on purpose (see _QuietDrops).
DROPPED: ContextVar[bool] = ContextVar("codeocean_fake_dropped", default=False)

_JSON = b"application/json"
_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
}
_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_MALFORMED = b'{"id": '
_DROP_FILLER = b'{"message": "the connection was dropped"}'
_UVICORN_UNFINISHED = "ASGI callable returned without completing response."


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about an unfinished answer, only for the fake's own drops."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (DROPPED.get() and record.getMessage() == _UVICORN_UNFINISHED)


_QUIET_DROPS = _QuietDrops()


async def _send(send: Send, status: int, headers: Headers, content: bytes) -> None:
    head = [(b"content-length", str(len(content)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": content})


async def _drop(send: Send, content: bytes) -> None:
    """Promise ``content`` but send half of it and return: a server then closes the socket.

    The ASGI spec lets an app end without finishing its answer; uvicorn then closes the
    connection and a client sees the peer close before the whole body arrived.
    """
    content = content or _DROP_FILLER
    headers = [
        (b"content-length", str(len(content)).encode()),
        (b"content-type", _JSON),
        (DROPPED_HEADER, b"1"),
    ]
    DROPPED.set(True)
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)  # idempotent
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send(
        {"type": "http.response.body", "body": content[: len(content) // 2], "more_body": True}
    )


async def send_refusal(send: Send, fault: Fault) -> None:
    """Answer for a fault that stops the request before the server acts (429, 5xx, drop)."""
    if fault.kind == "drop_before":
        await _drop(send, b"")
        return
    status = 429 if fault.kind == "rate_limited" else int(fault.status or 503)
    reason = _REASONS[status]
    if fault.html:
        page = _NGINX_PAGE.format(code=status, reason=reason).encode()
        await _send(send, status, [(b"content-type", b"text/html")], page)
        return
    headers = [(b"content-type", _JSON)]
    if fault.retry_after is not None:
        headers.append((b"retry-after", _retry_after(fault.retry_after).encode("latin-1")))
    await _send(send, status, headers, json.dumps({"message": reason}).encode())


def _retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else repr(float(value))


async def send_answer(
    send: Send, status: int, headers: Headers, content: bytes, fault: str | None
) -> None:
    """Send the server's answer, broken as an acting fault kind says (None: as it is).

    A body-less answer (204) has nothing to truncate or garble and goes out unchanged.
    """
    if fault == "drop_after":
        await _drop(send, content)
        return
    if content and fault == "truncated_json":
        content = content[: len(content) // 2]
    elif content and fault == "malformed_json":
        content = _MALFORMED
    await _send(send, status, headers, content)
