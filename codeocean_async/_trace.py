"""What the wire says of one request: whether it started going out (httpcore's trace events).

Whether a failed request may have reached the server is judged from these events, not from the
exception's name; an engine that reports through callbacks (aiohttp) finds the trace of the
request being sent through ``current_trace``.
"""

from __future__ import annotations

import contextvars
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["STREAM_BODY", "WireTrace", "current_trace"]

#: A request extension: the answer's body is streamed to the caller as it comes (a download),
#: never read whole by the engine first (the aiohttp engine reads small API answers up front).
STREAM_BODY = "codeocean_async.stream_body"

# Without trace events (a transport other than httpcore's), only these prove nothing was sent.
_NEVER_SENT = (httpx.ConnectError, httpx.PoolTimeout)


#: The wire trace of the request being sent in this task, for engines that report through
#: callbacks rather than httpcore's ``trace`` extension (aiohttp's ``TraceConfig``).
current_trace: contextvars.ContextVar[WireTrace | None] = contextvars.ContextVar(
    "codeocean_async_wire_trace", default=None
)


class WireTrace:
    """Records whether a request started going out on the wire (httpcore's trace callback)."""

    __slots__ = ("sending", "traced")

    def __init__(self) -> None:
        self.traced = False
        self.sending = False

    async def __call__(self, event: str, info: Mapping[str, Any]) -> None:
        self.traced = True
        if event.endswith("send_request_headers.started"):
            self.sending = True

    def maybe_sent(self, exc: httpx.TransportError) -> bool:
        """Whether the request that failed with ``exc`` may have reached the server."""
        if self.traced:
            return self.sending
        return not isinstance(exc, _NEVER_SENT)

    def maybe_sent_so_far(self) -> bool:
        """Whether the request may have reached the server by now (untraced: it may have)."""
        return self.sending if self.traced else True
