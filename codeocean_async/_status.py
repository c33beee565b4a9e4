"""Turns a non-2xx answer into its exception: a short message, the body, no secret in either.

The body may be anything a server or proxy sends: JSON, an HTML error page, megabytes of noise,
the request's credentials echoed back. The pipeline reads at most ``ERROR_BODY_MAX`` bytes of
it; here it becomes ``message`` (at most a few hundred characters, found in linear time) and
``body`` (the decoded JSON, every string in it cleared of the token).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    ServerVersionError,
)
from ._redact import Secrets

__all__ = ["EXCERPT_CHARS", "error_from_response", "excerpt", "shorten", "version_refusal"]

#: The longest excerpt of a body that is not JSON, and the longest JSON ``message`` kept.
EXCERPT_CHARS = 200
MESSAGE_CHARS = 300
#: How a deployment says it refused a request for its version (Code Ocean's wording is not
#: documented: PR #50 of the official SDK says only "400 when its version is lower than the
#: header or the header is malformed"), matched in the error's message.
_VERSION_REFUSAL = re.compile(r"min[-_ ]?server[-_ ]?version|server version", re.IGNORECASE)
_NOISE = re.compile(r"<(script|style)\b", re.IGNORECASE)  # anchored with match(): O(1) a try

_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_from_response(response: httpx.Response, secrets: Secrets | None = None) -> APIStatusError:
    """Build the exception for a non-2xx ``response`` (its body must already be read).

    ``secrets`` (by default: those of the request's ``Authorization`` header) are cleared from
    the message and from every string of the body.
    """
    if secrets is None:
        secrets = Secrets.of_headers(response.request.headers)
    text = secrets.text(response.text)
    body: Any = None
    if text:
        try:
            body = secrets.value(json.loads(text))
        except (ValueError, RecursionError):  # not JSON, or absurdly deep
            body = None
    message = ""
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message = shorten(" ".join(body["message"].split()), MESSAGE_CHARS)
    elif body is None and text.strip():
        message = excerpt(text)
    if not message:
        message = secrets.text(response.reason_phrase) or "error"
    status = response.status_code
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else APIStatusError
    return cls(message, response=response, body=body)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the cut marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """One line of at most ``limit`` characters from a body that is not JSON (an HTML page...).

    Linear in the length of ``text``: an HTML page keeps its words (tags, scripts and styles
    dropped) by one scan, however many ``<`` it holds.
    """
    if "<" in text and ">" in text:  # an HTML error page from a proxy: keep its words
        text = _strip_tags(text, stop_after=4 * limit)
    return shorten(" ".join(text.split()), limit)


def _strip_tags(text: str, *, stop_after: int) -> str:
    """The text outside tags, ``<script>`` and ``<style>`` elements; stops once it holds
    ``stop_after`` non-blank characters. Each ``find`` starts past the previous one's match."""
    kept: list[str] = []
    count = 0
    position = 0
    end = len(text)
    while position < end and count < stop_after:
        start = text.find("<", position)
        if start < 0:
            kept.append(text[position:])
            break
        kept.append(text[position:start])
        count += len(kept[-1].strip())
        noise = _NOISE.match(text, start)
        if noise is not None:  # skip to the element's end (none: the rest is script)
            close = _find_closing(text, noise.group(1), noise.end())
            position = end if close < 0 else close
            continue
        close = text.find(">", start + 1)
        if close < 0:  # a '<' that opens no tag: plain text from here
            kept.append(text[start:])
            break
        kept.append(" ")
        position = close + 1
    return "".join(kept)


def _find_closing(text: str, name: str, start: int) -> int:
    """The index just past ``</name ...>`` at or after ``start``, or -1."""
    lowered_name = "</" + name.lower()
    index = start
    while True:
        found = text.find("</", index)
        if found < 0:
            return -1
        if text[found : found + len(lowered_name)].lower() == lowered_name:
            close = text.find(">", found)
            return -1 if close < 0 else close + 1
        index = found + 2


def version_refusal(
    exc: BadRequestError, operation: str, min_version: str | None
) -> ServerVersionError | None:
    """The ``ServerVersionError`` for a 400 that refused the request for version reasons (its
    message names the server version or ``Min-Server-Version``), else ``None``."""
    if isinstance(exc, ServerVersionError) or not _VERSION_REFUSAL.search(exc.message):
        return None
    needs = f"Code Ocean {min_version} or later" if min_version else "a newer Code Ocean"
    return ServerVersionError(
        f"{operation} needs {needs}; the deployment refused it for its version: {exc.message}",
        response=exc.response,
        body=exc.body,
        operation=operation,
        min_version=min_version,
    )
