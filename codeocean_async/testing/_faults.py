"""The fault kinds: what each ``Fault`` does on the wire, and whether the server acted first."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "ECHO_SPELLINGS",
    "ECHO_STATUSES",
    "KINDS",
    "MALFORMED_VARIANTS",
    "SERVER_ERROR_STATUSES",
    "Fault",
]

#: Every fault kind, in the order of the issue's list.
KINDS = (
    "rate_limited",
    "server_error",
    "slow",
    "drop_before",
    "drop_after",
    "truncated_json",
    "malformed_json",
    "drift",
    "bad_gzip",
    "bad_id",
    "echo_token",
    "trickle",
    "malformed_http",
)
#: The kinds after which the server has always acted (a run started, a rename applied...).
_ACTING = frozenset(
    {"slow", "drop_after", "truncated_json", "malformed_json", "drift"}
    | {"bad_gzip", "bad_id", "trickle"}
)
#: The kinds whose ``acting`` is a choice (``echo_token``, ``malformed_http``).
_CHOOSE_ACTING = frozenset({"echo_token", "malformed_http"})
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
#: The statuses an ``echo_token`` answer may have.
ECHO_STATUSES = (400, 500, 503)
#: How an ``echo_token`` answer spells the credentials: the ``Authorization`` header value, the
#: token itself, the token percent-encoded, the base64 of ``token:``.
ECHO_SPELLINGS = ("header", "token", "percent", "base64")
#: What a ``malformed_http`` answer breaks: the status line, a header line, the chunk size, a
#: Content-Length larger than the body (then the connection closes), a non-numeric one.
MALFORMED_VARIANTS = ("status_line", "header_line", "chunk_size", "short_body", "content_length")


@dataclass(frozen=True)
class Fault:
    """One injected fault: a ``kind`` (see :data:`KINDS`) and its parameters.

    Build them with the class methods (``Fault.rate_limited(retry_after=2)``,
    ``Fault.server_error(502, html=True)``, ``Fault.drop_after()``...). A 429, a 5xx and
    :meth:`drop_before` mean the server did not act; :meth:`echo_token` and
    :meth:`malformed_http` act or not as asked; every other kind acts first.
    """

    kind: str
    status: int | None = None
    retry_after: float | str | None = None
    html: bool = False
    seconds: float = 0.0
    #: ``malformed_http``: what is broken; ``echo_token``: the spelling; ``bad_id``: the ID.
    variant: str | None = None
    ensure_ascii: bool = False
    acting: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {list(KINDS)}")
        if self.kind == "server_error" and self.status not in SERVER_ERROR_STATUSES:
            raise ValueError(f"server_error status must be one of {SERVER_ERROR_STATUSES}")
        self._check_variant()
        retry_after = self.retry_after
        if isinstance(retry_after, bool) or not (
            retry_after is None
            or (isinstance(retry_after, str) and retry_after.strip())
            or (isinstance(retry_after, (int, float)) and 0 <= retry_after < math.inf)
        ):
            raise ValueError(
                f"retry_after must be seconds >= 0 or an HTTP-date, got {retry_after!r}"
            )
        if not 0 <= self.seconds < math.inf:
            raise ValueError(f"seconds must be >= 0, got {self.seconds!r}")
        if self.acting and self.kind not in _CHOOSE_ACTING:
            raise ValueError(f"{self.kind} cannot choose whether it acts")

    def _check_variant(self) -> None:
        allowed = {"malformed_http": MALFORMED_VARIANTS, "echo_token": ECHO_SPELLINGS}.get(
            self.kind
        )
        if allowed is not None and self.variant not in allowed:
            raise ValueError(f"{self.kind} variant must be one of {allowed}, got {self.variant!r}")
        if self.kind == "bad_id" and not (isinstance(self.variant, str) and self.variant):
            raise ValueError(f"bad_id needs a non-empty ID string, got {self.variant!r}")
        if self.kind == "echo_token" and self.status not in ECHO_STATUSES:
            raise ValueError(f"echo_token status must be one of {ECHO_STATUSES}")

    def __repr__(self) -> str:
        args = {
            "rate_limited": "" if self.retry_after is None else f"retry_after={self.retry_after!r}",
            "server_error": f"{self.status}" + (", html=True" if self.html else ""),
            "slow": f"{self.seconds!r}",
            "trickle": f"{self.seconds!r}",
            "bad_id": f"{self.variant!r}",
            "malformed_http": f"{self.variant!r}, acts={self.acting}",
            "echo_token": f"{self.status}, {self.variant!r}, acts={self.acting}"
            + (", html=True" if self.html else "")
            + (", ensure_ascii=True" if self.ensure_ascii else ""),
        }.get(self.kind, "")
        return f"Fault.{self.kind}({args})"

    @property
    def acts(self) -> bool:
        """Whether the server does what the request asked before this fault shows."""
        return self.kind in _ACTING or self.acting

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = None) -> Fault:
        """429 with a JSON message; ``Retry-After`` (seconds or an HTTP-date) when given."""
        return cls("rate_limited", status=429, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 503, html: bool = False) -> Fault:
        """500/502/503/504 with a JSON message, or with ``html=True`` a proxy's HTML page."""
        return cls("server_error", status=status, html=html)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        """Wait ``seconds`` (``anyio.sleep``), then act and answer normally."""
        return cls("slow", seconds=float(seconds))

    @classmethod
    def drop_before(cls) -> Fault:
        """Drop the connection without acting (no computation is created)."""
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        """Act (the computation is created), then drop the connection mid-answer."""
        return cls("drop_after")

    @classmethod
    def truncated_json(cls) -> Fault:
        """Act, then answer with the JSON body cut in half (a matching Content-Length)."""
        return cls("truncated_json")

    @classmethod
    def malformed_json(cls) -> Fault:
        """Act, then answer with a body that is not JSON (``{"id": ``)."""
        return cls("malformed_json")

    @classmethod
    def drift(cls) -> Fault:
        """Act, then answer with unknown keys, missing optional keys and new enum values."""
        return cls("drift")

    @classmethod
    def bad_gzip(cls) -> Fault:
        """Act, then answer with ``Content-Encoding: gzip`` and a body that is not gzip."""
        return cls("bad_gzip")

    @classmethod
    def bad_id(cls, id: str = "../etc/passwd") -> Fault:
        """Act, then answer with each computation's ``id`` replaced by ``id`` (say ``"a/b"``)."""
        return cls("bad_id", variant=id)

    @classmethod
    def echo_token(
        cls,
        status: int = 400,
        spelling: str = "token",
        *,
        html: bool = False,
        ensure_ascii: bool = False,
        acts: bool | None = None,
    ) -> Fault:
        """A 400, 500 or 503 whose JSON body (or ``html=True`` page) echoes the credentials.

        ``spelling`` (see :data:`ECHO_SPELLINGS`) is how they are echoed; in JSON, the token is
        JSON-escaped, with ``\\uXXXX`` escapes when ``ensure_ascii``. A 500 acts first by
        default (a crash while answering), a 400 or 503 does not.
        """
        acting = status == 500 if acts is None else acts
        return cls(
            "echo_token",
            status=status,
            variant=spelling,
            html=html,
            ensure_ascii=ensure_ascii,
            acting=acting,
        )

    @classmethod
    def trickle(cls, interval: float = 1.0) -> Fault:
        """Act, then send the answer's body one byte every ``interval`` seconds.

        Over a socket the client sees a body that keeps coming; in process it is only slow.
        """
        return cls("trickle", seconds=float(interval))

    @classmethod
    def malformed_http(cls, variant: str = "status_line", *, acts: bool = True) -> Fault:
        """An answer that breaks HTTP/1.1 as :data:`MALFORMED_VARIANTS` lists, after acting
        (or, ``acts=False``, without). Only :func:`serve_hostile_in_thread` writes the broken
        bytes; uvicorn and ``fake.transport()`` drop the connection instead."""
        return cls("malformed_http", variant=variant, acting=acts)
