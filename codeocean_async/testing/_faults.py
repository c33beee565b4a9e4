"""The fault plan: which scripted or random fault the fake applies to each matching request."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from random import Random

__all__ = ["KINDS", "SERVER_ERROR_STATUSES", "Fault", "FaultPlan"]

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
)
#: The kinds after which the server has acted (a run started, a rename applied...).
_ACTING = frozenset({"slow", "drop_after", "truncated_json", "malformed_json", "drift"})
SERVER_ERROR_STATUSES = (500, 502, 503, 504)
_API_PREFIX = "/api/v1"


@dataclass(frozen=True)
class Fault:
    """One injected fault: a ``kind`` (see :data:`KINDS`) and its parameters.

    Build them with the class methods (``Fault.rate_limited(retry_after=2)``,
    ``Fault.server_error(502, html=True)``, ``Fault.drop_after()``...). A 429, a 5xx and
    :meth:`drop_before` mean the server did not act; every other kind acts first.
    """

    kind: str
    status: int | None = None
    retry_after: float | str | None = None
    html: bool = False
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {list(KINDS)}")
        if self.kind == "server_error" and self.status not in SERVER_ERROR_STATUSES:
            raise ValueError(f"server_error status must be one of {SERVER_ERROR_STATUSES}")
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

    def __repr__(self) -> str:
        args = {
            "rate_limited": "" if self.retry_after is None else f"retry_after={self.retry_after!r}",
            "server_error": f"{self.status}" + (", html=True" if self.html else ""),
            "slow": f"{self.seconds!r}",
        }.get(self.kind, "")
        return f"Fault.{self.kind}({args})"

    @property
    def acts(self) -> bool:
        """Whether the server does what the request asked before this fault shows."""
        return self.kind in _ACTING

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


def _method(method: str) -> str:
    text = method.strip().upper()
    if not text or not (text == "*" or text.isalpha()):
        raise ValueError(f"method must be an HTTP method or '*', got {method!r}")
    return text


def _route(route: str) -> tuple[str, ...]:
    """``"/capsules/*/computations"`` -> ``("capsules", "*", "computations")``."""
    text = route.strip()
    if text.startswith(_API_PREFIX + "/"):
        text = text[len(_API_PREFIX) :]
    segments = tuple(text.strip("/").split("/"))
    if not text.startswith("/") or not all(segments):
        raise ValueError(f"route must look like '/computations/*', got {route!r}")
    return segments


def _matches(method: str, route: tuple[str, ...], req_method: str, segments: list[str]) -> bool:
    if method not in ("*", req_method) or len(route) != len(segments):
        return False
    return all(
        want == got or (want == "*" and got) for want, got in zip(route, segments, strict=True)
    )


@dataclass
class _Script:
    method: str
    route: tuple[str, ...]
    faults: deque[Fault] = field(default_factory=deque)


@dataclass
class _RandomRule:
    method: str
    route: tuple[str, ...]
    rate: float
    choices: tuple[Fault, ...]
    rng: Random


class FaultPlan:
    """The faults a fake injects, per route and method; empty (no faults) by default.

    Faults act where a proxy would: before auth and routing. A request consumes the next
    fault of the first matching script that still has one; with none, the first matching
    random rule may pick one. Safe to change while the fake serves from another thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []
        self._randoms: list[_RandomRule] = []
        self._injected: list[tuple[str, str, Fault]] = []

    def __repr__(self) -> str:
        return (
            f"FaultPlan(pending={self.pending}, random_rules={len(self._randoms)},"
            f" injected={len(self._injected)})"
        )

    def script(self, method: str, route: str, *faults: Fault) -> None:
        """Give the next matching requests these faults, one each, in order (FIFO).

        ``route`` is a path after ``/api/v1`` where ``*`` stands for one segment (an id);
        ``method`` may be ``"*"`` for any. Scripting the same method and route again
        appends to its queue. Once a script is used up, its requests pass normally.
        """
        key = (_method(method), _route(route))
        if not faults:
            raise ValueError("script() needs at least one Fault")
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"expected Fault, got {type(fault).__name__}")
        with self._lock:
            for script in self._scripts:
                if (script.method, script.route) == key:
                    script.faults.extend(faults)
                    return
            self._scripts.append(_Script(*key, deque(faults)))

    def random(
        self,
        method: str,
        route: str,
        *,
        rate: float,
        choices: Sequence[Fault],
        seed: int | None = None,
    ) -> None:
        """Give each matching request a fault with probability ``rate``, picked uniformly.

        A ``seed`` makes the sequence reproducible. A new rule for the same method and route
        replaces the old one. Scripted faults take precedence.
        """
        key = (_method(method), _route(route))
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {rate!r}")
        picks = tuple(choices)
        if not picks or not all(isinstance(f, Fault) for f in picks):
            raise ValueError("choices must be a non-empty sequence of Fault")
        rule = _RandomRule(*key, float(rate), picks, Random(seed))
        with self._lock:
            self._randoms = [r for r in self._randoms if (r.method, r.route) != key]
            self._randoms.append(rule)

    def clear(self) -> None:
        """Forget every script, random rule and injected fault: the fake acts as with no plan."""
        with self._lock:
            self._scripts.clear()
            self._randoms.clear()
            self._injected.clear()

    @property
    def injected(self) -> list[tuple[str, str, Fault]]:
        """``(method, path, fault)`` of every fault applied, in order (a copy)."""
        with self._lock:
            return list(self._injected)

    @property
    def pending(self) -> int:
        """How many scripted faults are still waiting for a request."""
        with self._lock:
            return sum(len(s.faults) for s in self._scripts)

    def take(self, method: str, path: str) -> Fault | None:
        """The fault for this request (logged as injected), or None. The fake calls this."""
        if not path.startswith(_API_PREFIX + "/"):
            return None
        segments = path[len(_API_PREFIX) + 1 :].split("/")
        method = method.upper()
        with self._lock:
            fault = self._pick(method, segments)
            if fault is not None:
                self._injected.append((method, path, fault))
            return fault

    def _pick(self, method: str, segments: list[str]) -> Fault | None:
        for script in self._scripts:
            if script.faults and _matches(script.method, script.route, method, segments):
                return script.faults.popleft()
        for rule in self._randoms:
            if _matches(rule.method, rule.route, method, segments):
                if rule.rng.random() < rule.rate:
                    return rule.rng.choice(rule.choices)
                return None
        return None
