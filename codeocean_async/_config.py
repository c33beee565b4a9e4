"""Frozen policies, options and defaults: the network's bounds, polling, a client's options.

Every default a user can meet (a timeout, the launches in flight, the request-rate cap of many
waits) is written here once, for the API and the command line alike.
"""

from __future__ import annotations

import math
import random
from typing import Literal

import attrs
import httpx

from ._errors import ConfigurationError

__all__ = [
    "DEFAULT_CONCURRENCY",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_REQUESTS_PER_SECOND",
    "DEFAULT_TIMEOUT",
    "ERROR_BODY_MAX",
    "MIN_SERVER_VERSION",
    "RETRY_AFTER_MIN",
    "ClientOptions",
    "OnUncertain",
    "PollPolicy",
    "RetryPolicy",
    "check_on_uncertain",
    "check_timeout",
]

#: Sent as ``Min-Server-Version`` on every request, as the official SDK 0.17 does: the server
#: answers 400 when it is older than this.
MIN_SERVER_VERSION = "4.8.0"

#: Never "no timeout": 10 s to connect, 60 s for every other step (a large computation list can be
#: slow to render), 30 s to get a connection from the pool when many requests are in flight.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=30.0)

#: Launch requests a batch keeps in flight at once, by default (``run_many``, the CLI).
DEFAULT_CONCURRENCY = 8

#: The default cap on the requests many waits send per second, all waits together.
DEFAULT_MAX_REQUESTS_PER_SECOND = 20.0

#: Seconds before a wait's deadline for a last look, when its schedule's next poll would be late.
LAST_LOOK = 1.0

#: The least a ``Retry-After`` hint is waited, in seconds: a hint of 0 (or less) must not turn the
#: retries into a burst of requests within milliseconds.
RETRY_AFTER_MIN = 0.5

#: The most bytes of an error answer's body that are read (decoded); the rest is discarded and
#: the connection closed. Enough for any JSON error and the words of an HTML error page.
ERROR_BODY_MAX = 64 * 1024


def _seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"{what} must be a number of seconds > 0, never None")
    if not (math.isfinite(value) and value > 0):
        raise ConfigurationError(f"{what} must be a finite number of seconds > 0, not {value!r}")
    return float(value)


def check_timeout(timeout: object) -> httpx.Timeout:
    """``timeout`` (seconds or an ``httpx.Timeout``) as an ``httpx.Timeout`` with every part a
    finite number of seconds > 0; ``ConfigurationError`` otherwise (never unbounded)."""
    if isinstance(timeout, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            _seconds(getattr(timeout, part), f"timeout.{part}")
        return timeout
    if timeout is None:
        raise ConfigurationError("timeout must be seconds or an httpx.Timeout, never None")
    return httpx.Timeout(_seconds(timeout, "timeout"))


#: Connection pool limits for the httpx client the SDK creates.
DEFAULT_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=30)


def _positive(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be > 0, not {value!r}")


@attrs.frozen(kw_only=True)
class PollPolicy:
    """How ``wait_for_completion`` paces its polls: fast at first, slower as the run ages.

    The n-th interval is ``initial * multiplier**n``, capped at ``maximum``, then scaled by a
    random factor in ``[1 - jitter, 1 + jitter]`` so many waiters do not poll in lockstep. The
    defaults notice a 2 s run within about half a second and settle at one poll a minute for runs
    that take hours.

    Example::

        PollPolicy(initial=5.0, maximum=300.0)  # gentler, for runs known to take hours
    """

    initial: float = attrs.field(default=0.5, validator=_positive)
    maximum: float = attrs.field(default=60.0, validator=_positive)
    multiplier: float = attrs.field(default=1.5)
    jitter: float = attrs.field(default=0.1)

    def __attrs_post_init__(self) -> None:
        if self.maximum < self.initial:
            raise ValueError("maximum must be >= initial")
        if self.multiplier < 1:
            raise ValueError("multiplier must be >= 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def next_poll(
        self, poll_number: int, *, now: float, deadline: float, rng: random.Random | None = None
    ) -> float:
        """When to poll after poll ``poll_number``: ``now`` plus the interval, but when that is
        past ``deadline``, one last look ``LAST_LOOK`` seconds before it (or ``deadline`` itself
        when that moment has passed: the wait then ends at its deadline).
        """
        due = now + self.interval(poll_number, rng)
        if due < deadline:
            return due
        return deadline - LAST_LOOK if deadline - now > LAST_LOOK else deadline

    def interval(self, poll_number: int, rng: random.Random | None = None) -> float:
        """Seconds to sleep after poll number ``poll_number`` (0-based), jittered."""
        exponent = min(poll_number, 64)  # the cap is reached long before; avoid float overflow
        base = min(self.maximum, self.initial * self.multiplier**exponent)
        if not self.jitter:
            return base
        return base * (rng or random).uniform(1 - self.jitter, 1 + self.jitter)


def _non_negative(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{attribute.name} must be >= 0, not {value!r}")


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """When and how long the client retries a request that failed on the way.

    What is retried (the table in the README, "Errors, retries and timeouts"):

    - 429 on any request (the server did not act): after ``Retry-After`` when the server sends
      one and it is at most ``retry_after_max`` seconds (a longer hint is not waited out: the
      ``RateLimitError`` is raised), else after a backoff.
    - A connection that was never made: any request, after a backoff.
    - 502/503/504, timeouts and connections dropped after the request was sent: requests that
      are safe to repeat (reads, rename), after a backoff. A run request is never resent then:
      it raises ``LaunchUncertainError`` (or reconciles, when asked).
    - A host name that does not resolve: never retried.

    The backoff before retry n (1-based) is uniform in ``[0, min(wait_max, wait_initial *
    2**(n-1))]`` ("full jitter"); a ``Retry-After`` hint is waited at least ``RETRY_AFTER_MIN``
    (0.5 s). At most ``attempts`` tries in all.

    Every request ends: ``timeout`` is a hard deadline on the whole request, from the call to the
    last byte of the answer, the attempt in flight and the waits between attempts included (no
    retry is started that would end past it). ``attempt_timeout`` bounds each attempt as a whole
    (connect, send, the whole answer, however slowly it trickles in; httpx's timeouts bound each
    read). Past either, a read raises ``APITimeoutError`` and a run request
    ``LaunchUncertainError``. ``RetryPolicy.none()`` never retries.

    ``settle`` is how long a reconciliation waits for a possibly started run to appear in the
    capsule's computation list, between each of its ``reconcile_attempts`` looks.
    """

    attempts: int = 5
    # Long enough for a Retry-After up to retry_after_max to be waited out.
    timeout: float = attrs.field(default=300.0, validator=_positive)
    attempt_timeout: float = attrs.field(default=120.0, validator=_positive)
    wait_initial: float = attrs.field(default=0.5, validator=_non_negative)
    wait_max: float = attrs.field(default=10.0, validator=_non_negative)
    retry_after_max: float = attrs.field(default=120.0, validator=_non_negative)
    settle: float = attrs.field(default=2.0, validator=_non_negative)
    reconcile_attempts: int = 3

    def __attrs_post_init__(self) -> None:
        for name in ("attempts", "reconcile_attempts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, not {value!r}")

    @classmethod
    def none(cls) -> RetryPolicy:
        """A policy that never retries (one attempt)."""
        return cls(attempts=1)

    def backoff(self, retry_number: int, rng: random.Random | None = None) -> float:
        """The full-jitter delay before retry ``retry_number`` (1-based)."""
        exponent = min(max(retry_number - 1, 0), 64)
        ceiling = min(self.wait_max, self.wait_initial * 2.0**exponent)
        return (rng or random).uniform(0, ceiling)


#: What ``computations.run`` does when it cannot tell whether a computation started.
OnUncertain = Literal["raise", "reconcile"]


def check_on_uncertain(value: object, error: type[ValueError] = ConfigurationError) -> None:
    """Refuse an ``on_uncertain`` other than ``"raise"`` or ``"reconcile"``."""
    if value not in ("raise", "reconcile"):
        raise error(f"on_uncertain must be 'raise' or 'reconcile', not {value!r}")


def _on_uncertain(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    check_on_uncertain(value)


@attrs.frozen(kw_only=True)
class ClientOptions:
    """A client's settings, in one frozen record: ``with_options`` evolves a copy of it.

    ``domain`` (the deployment's address, without ``/api/v1``) and ``agent_id`` are fixed for
    the client's life; the others can differ between a client and its copies.
    """

    domain: str
    agent_id: str | None = None
    timeout: httpx.Timeout = attrs.field(default=DEFAULT_TIMEOUT, converter=check_timeout)
    poll: PollPolicy = attrs.field(factory=PollPolicy)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    on_uncertain: OnUncertain = attrs.field(default="raise", validator=_on_uncertain)
