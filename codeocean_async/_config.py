"""Frozen policies and defaults: how long to wait for the network, and how often to poll."""

from __future__ import annotations

import random

import attrs
import httpx

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "MIN_SERVER_VERSION", "PollPolicy"]

#: Sent as ``Min-Server-Version`` on every request, as the official SDK 0.17 does: the server
#: answers 400 when it is older than this.
MIN_SERVER_VERSION = "4.8.0"

#: Never "no timeout": 10 s to connect, 60 s for every other step (a large computation list can be
#: slow to render), 30 s to get a connection from the pool when many requests are in flight.
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0, pool=30.0)

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

    def interval(self, poll_number: int, rng: random.Random | None = None) -> float:
        """Seconds to sleep after poll number ``poll_number`` (0-based), jittered."""
        exponent = min(poll_number, 64)  # the cap is reached long before; avoid float overflow
        base = min(self.maximum, self.initial * self.multiplier**exponent)
        if not self.jitter:
            return base
        return base * (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
