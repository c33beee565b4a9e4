"""The fault plan: which scripted or random fault the fake applies to each matching request."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from random import Random

from ._faults import Fault

__all__ = ["FaultPlan"]

_API_PREFIX = "/api/v1"


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
        # A trailing slash (the detach routes') matches the route scripted with or without it.
        segments = path[len(_API_PREFIX) + 1 :].rstrip("/").split("/")
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
