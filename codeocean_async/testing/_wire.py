"""What the fake puts on the wire: answers, fault answers, broken JSON and dropped connections."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

import anyio

from ._faults import Fault

__all__ = ["DROPPED", "DROPPED_HEADER", "MALFORMED_HEADER", "send_answer", "send_refusal"]

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

#: Marks a response the fake dropped; :meth:`FakeCodeOcean.transport` turns it into an error.
DROPPED_HEADER = b"x-fake-dropped"
#: Set in the serving task when the fake drops a connection on purpose (see _QuietDrops).
DROPPED: ContextVar[bool] = ContextVar("codeocean_fake_dropped", default=False)
#: Tells the hostile runner which part of HTTP to break (``Fault.malformed_http``'s variant);
#: everyone else sees a dropped connection.
MALFORMED_HEADER = b"x-fake-malformed"

_JSON = b"application/json"
_REASONS = {
    400: "Bad Request",
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


async def _drop(send: Send, content: bytes, *, status: int = 200, malformed: str = "") -> None:
    """Promise ``content`` but send half of it and return: a server then closes the socket.

    The ASGI spec lets an app end without finishing its answer; uvicorn then closes the
    connection and a client sees the peer close before the whole body arrived. For a
    ``malformed`` answer the whole body goes out, one byte short of the promised length, with
    the variant for the hostile runner, which writes the broken bytes instead.
    """
    content = content or _DROP_FILLER
    headers = [
        (b"content-length", str(len(content) + (1 if malformed else 0)).encode()),
        (b"content-type", _JSON),
        (DROPPED_HEADER, b"1"),
    ]
    if malformed:
        headers.append((MALFORMED_HEADER, malformed.encode()))
    DROPPED.set(True)
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)  # idempotent
    await send({"type": "http.response.start", "status": status, "headers": headers})
    part = content if malformed else content[: len(content) // 2]
    await send({"type": "http.response.body", "body": part, "more_body": True})


def _echo(fault: Fault, authorization: str | None) -> str:
    """The request's credentials, spelled as ``fault.variant`` says."""
    header = authorization or ""
    _scheme, _, encoded = header.partition(" ")
    try:
        token = base64.b64decode(encoded, validate=True).decode().rpartition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        token = ""
    return {
        "header": header,
        "token": token,
        "percent": quote(token, safe=""),
        "base64": encoded,
    }[str(fault.variant)]


async def _send_echo(send: Send, fault: Fault, authorization: str | None) -> None:
    """An error answer that echoes the credentials: a JSON body, or a careless HTML page."""
    status = int(fault.status or 400)
    reason = _REASONS[status]
    echo = _echo(fault, authorization)
    if fault.html:
        page = (
            f"<html><head><title>{status} {reason}</title></head><body><h1>{status} {reason}"
            f"</h1><p>Request headers: Authorization: {echo}</p></body></html>\r\n"
        )
        content_type = b"text/html; charset=utf-8"
        await _send(send, status, [(b"content-type", content_type)], page.encode())
        return
    body = {"message": f"{reason}: refused credentials {echo}", "authorization": echo}
    content = json.dumps(body, ensure_ascii=fault.ensure_ascii).encode()
    await _send(send, status, [(b"content-type", _JSON)], content)


async def send_refusal(send: Send, fault: Fault, authorization: str | None = None) -> None:
    """Answer for a fault that stops the request before the server acts (429, 5xx, drop...).

    ``authorization`` is the request's header, for a fault that echoes it.
    """
    if fault.kind == "drop_before":
        await _drop(send, b"")
        return
    if fault.kind == "echo_token":
        await _send_echo(send, fault, authorization)
        return
    status = 429 if fault.kind == "rate_limited" else int(fault.status or 503)
    reason = _REASONS[status]
    if fault.kind == "malformed_http":
        body = json.dumps({"message": "Bad Gateway"}).encode()
        await _drop(send, body, status=502, malformed=str(fault.variant))
        return
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


def _with_bad_ids(data: Any, bad: str) -> Any:
    """A computation's (or a list of them's) JSON with every ``id`` replaced by ``bad``."""
    if isinstance(data, list):
        return [_with_bad_ids(item, bad) for item in data]
    if isinstance(data, dict) and "id" in data:
        return {**data, "id": bad}
    return data


async def _trickle(send: Send, status: int, headers: Headers, content: bytes, pause: float) -> None:
    """The answer's head, then its body one byte at a time, ``pause`` seconds apart."""
    head = [(b"content-length", str(len(content)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    for i in range(len(content)):
        if i:
            await anyio.sleep(pause)
        more = i < len(content) - 1
        await send({"type": "http.response.body", "body": content[i : i + 1], "more_body": more})


async def send_answer(
    send: Send,
    status: int,
    headers: Headers,
    content: bytes,
    fault: Fault | None,
    authorization: str | None = None,
) -> None:
    """Send the server's answer, broken as an acting fault says (None: as it is).

    A body-less answer (204) has nothing to truncate, garble or trickle and goes out unchanged.
    ``authorization`` is the request's header, for a fault that echoes it.
    """
    kind = None if fault is None else fault.kind
    if fault is not None and kind == "echo_token":
        await _send_echo(send, fault, authorization)
        return
    if kind == "drop_after":
        await _drop(send, content)
        return
    if fault is not None and kind == "malformed_http":
        await _drop(send, content, status=status, malformed=str(fault.variant))
        return
    if content and kind == "truncated_json":
        content = content[: len(content) // 2]
    elif content and kind == "malformed_json":
        content = _MALFORMED
    elif content and fault is not None and kind == "bad_id":
        content = json.dumps(_with_bad_ids(json.loads(content), str(fault.variant))).encode()
    elif content and kind == "bad_gzip":
        headers = [*headers, (b"content-encoding", b"gzip")]  # the body stays plain JSON
    elif content and fault is not None and kind == "trickle":
        await _trickle(send, status, headers, content, fault.seconds)
        return
    await _send(send, status, headers, content)
