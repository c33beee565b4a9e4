"""The hostile soak's harness: one engine's batches against a hostile fake, and what it counts.

Each engine runs its launches and waits through the public batch API against a FakeCodeOcean
served by ``serve_hostile_in_thread`` with a seeded random fault mix, inside a hard overall
timeout. The harness never lets what the SDK raises stop it: an ``ExceptionGroup``, a raw
exception or a hang becomes a figure. ``figures`` then compares the fake's record of what was
created with what the SDK reported, and scans every text the caller can see for the token.
"""

from __future__ import annotations

import base64
import builtins
import importlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus

import anyio
import attrs

import codeocean_async as co
from codeocean_async.testing import Fault
from codeocean_async.testing._faults import MALFORMED_VARIANTS

#: A token with non-ASCII characters, '"', '\' and '/': every spelling of it differs.
TOKEN = 'cop_ü"\\/ŧøķen-1234567890'
#: Its ASCII tail: in every spelling of the token but base64 (raw, JSON with or without
#: ensure_ascii, percent-encoded, repr'd); no redaction leaves it.
TAIL = "en-1234567890"
B64 = base64.b64encode(f"{TOKEN}:".encode()).decode()
SPELLINGS = {
    "raw": TOKEN,
    "json_ascii": json.dumps(TOKEN)[1:-1],
    "json_utf8": json.dumps(TOKEN, ensure_ascii=False)[1:-1],
    "percent": quote(TOKEN, safe=""),
    "percent_plus": quote_plus(TOKEN),
    "repr": repr(TOKEN)[1:-1],
    "ascii": ascii(TOKEN)[1:-1],
    "bytes_repr": repr(TOKEN.encode())[2:-1],
    "base64": B64.rstrip("="),
}

#: BaseExceptionGroup: builtin from 3.11, from the exceptiongroup backport before (mypy checks as
#: 3.10, where the builtin is missing).
GROUP: Any = (
    vars(builtins).get("BaseExceptionGroup")
    or importlib.import_module("exceptiongroup").BaseExceptionGroup
)

ENGINES = (("httpx", "asyncio"), ("httpx", "trio"), ("aiohttp", "asyncio"))
RUN_DURATIONS = (0.05, 0.15, 0.05)
CAPSULES = 8
#: The client's httpx timeout (each connect, read, write) and its retry policy. The attempt
#: bound is set only where the client has one.
CLIENT_TIMEOUT = 1.0
RETRY: dict[str, Any] = {
    "attempts": 4,
    "timeout": 3.0,
    "attempt_timeout": 1.5,
    "wait_initial": 0.05,
    "wait_max": 0.25,
    "retry_after_max": 1.0,
    "settle": 0.2,
    "reconcile_attempts": 2,
}
#: What a request may take past ``RetryPolicy.timeout`` on a loaded 2-core machine, with the
#: server in the same process: a correctness bound, not a speed claim.
SLACK = 2.0
POLL = co.PollPolicy(initial=0.05, maximum=0.25)


def retry_policy() -> co.RetryPolicy:
    known = attrs.fields_dict(co.RetryPolicy)
    return co.RetryPolicy(**{k: v for k, v in RETRY.items() if k in known})


def bound() -> float:
    """How long any one request (every attempt of it) may last, as the server sees it."""
    return retry_policy().timeout + SLACK


def hostile_mix() -> dict[tuple[str, str], list[Fault]]:
    """The issue's faults, by method and route: what the fake picks from at random."""
    broken = [Fault.malformed_http(v) for v in MALFORMED_VARIANTS] + [
        Fault.malformed_http("status_line", acts=False),
        Fault.bad_gzip(),
        Fault.trickle(0.2),
        Fault.drop_after(),
        Fault.drop_before(),
        Fault.bad_id("../etc/passwd"),
        Fault.bad_id("a/b"),
        Fault.bad_id("x?y"),
    ]
    echoes = [Fault.echo_token(400, s) for s in ("header", "token", "percent", "base64")] + [
        Fault.echo_token(400, "token", ensure_ascii=True),
        Fault.echo_token(400, "token", html=True),
        Fault.echo_token(500, "token"),
        Fault.echo_token(503, "percent"),
    ]
    usual = [
        Fault.rate_limited(0.1),
        Fault.rate_limited(0),
        Fault.server_error(500),
        Fault.server_error(502, html=True),
        Fault.server_error(503),
        Fault.server_error(504),
    ]
    mix = broken + echoes + usual
    return {
        ("POST", "/computations"): mix,
        ("GET", "/computations/*"): mix,
        ("GET", "/capsules/*/computations"): mix,
    }


def tame_mix() -> dict[tuple[str, str], list[Fault]]:
    """Faults the SDK handled before issue 8: for the quick run that checks the harness."""
    usual = [Fault.rate_limited(0.1), Fault.server_error(503), Fault.server_error(502, html=True)]
    return {
        ("POST", "/computations"): [*usual, Fault.drop_after(), Fault.drop_before()],
        ("GET", "/computations/*"): [*usual, Fault.drop_before()],
        ("GET", "/capsules/*/computations"): usual,
    }


@dataclass(frozen=True)
class Size:
    launches: int
    concurrency: int
    hard_timeout: float
    wait_timeout: float
    rates: tuple[float, float, float]  # POST, GET one, GET list
    hostile: bool = True


@dataclass
class Batch:
    """One batch call: its specs (global indices) and how it is driven."""

    name: str
    indices: list[int]
    api: str  # "run_and_wait_many" or "run_many+wait_all"
    on_uncertain: str
    strategy: str


@dataclass
class Record:
    """What the caller saw, per spec and per batch."""

    outcomes: dict[int, Any] = field(default_factory=dict)
    events: list[tuple[Batch, Any]] = field(default_factory=list)
    raised: list[BaseException] = field(default_factory=list)
    exception_groups: int = 0
    raw_errors: int = 0
    hung: int = 0


class LogCapture(logging.Handler):
    """Every log line's text (message, exception, stack), from every logger, at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self._format = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.name} {record.levelname} {record.getMessage()}"
        except Exception as exc:  # a bad format string is still text someone would see
            text = f"{record.name} {record.msg!r} {record.args!r} {exc!r}"
        if record.exc_info:
            text += "\n" + self._format.formatException(record.exc_info)
        if record.stack_info:
            text += "\n" + record.stack_info
        self.texts.append(text)


@contextmanager
def captured_logs() -> Iterator[LogCapture]:
    root = logging.getLogger()
    handler, level = LogCapture(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def batches(size: Size) -> list[Batch]:
    """Four batches over the specs: both batch APIs, both on_uncertain, both strategies."""
    plans = [
        ("A", "run_and_wait_many", "raise", "auto"),
        ("B", "run_and_wait_many", "reconcile", "per_run"),
        ("C", "run_many+wait_all", "reconcile", "auto"),
        ("D", "run_many+wait_all", "raise", "per_run"),
    ]
    return [
        Batch(name, list(range(n, size.launches, len(plans))), api, uncertain, strategy)
        for n, (name, api, uncertain, strategy) in enumerate(plans)
    ]


async def drive(url: str, engine: str, size: Size, record: Record, capsules: list[str]) -> None:
    """Run every batch at once, inside the hard timeout; the client closes after it."""
    client = co.AsyncCodeOcean(
        domain=url,
        token=TOKEN,
        allow_insecure_http=True,
        engine=engine,  # type: ignore[arg-type]
        timeout=CLIENT_TIMEOUT,
        poll=POLL,
        retry=retry_policy(),
    )
    async with client:
        with anyio.move_on_after(size.hard_timeout) as hard:
            async with anyio.create_task_group() as tg:
                for batch in batches(size):
                    tg.start_soon(run_batch, client, batch, size, record, capsules, hard)
        if hard.cancelled_caught:
            record.hung += 1


async def run_batch(
    client: co.AsyncCodeOcean,
    batch: Batch,
    size: Size,
    record: Record,
    capsules: list[str],
    hard: anyio.CancelScope,
) -> None:
    specs = [
        {"capsule_id": capsules[i % len(capsules)], "parameters": [f"soak-{i}"]}
        for i in batch.indices
    ]

    def on_event(event: Any) -> None:
        record.events.append((batch, event))

    common: dict[str, Any] = {
        "concurrency": size.concurrency,
        "on_event": on_event,
        "on_uncertain": batch.on_uncertain,
    }
    waits: dict[str, Any] = {
        "timeout": size.wait_timeout,
        "poll": POLL,
        "max_requests_per_second": 50.0,
        "strategy": batch.strategy,
    }
    try:
        if batch.api == "run_and_wait_many":
            outcomes = await client.computations.run_and_wait_many(specs, **common, **waits)
            for outcome in outcomes:
                record.outcomes[batch.indices[outcome.index]] = outcome
            return
        launched = await client.computations.run_many(specs, **common)
        for launch in launched:
            record.outcomes[batch.indices[launch.index]] = launch
        started = [o.computation for o in launched if o.computation is not None]
        await client.computations.wait_all(started, on_event=on_event, **waits)
    except co.CodeOceanError as exc:  # a wait's error (wait_all raises), or the batch's own
        record.raised.append(exc)
    except GROUP as group:
        _, rest = group.split(anyio.get_cancelled_exc_class())
        if hard.cancel_called and rest is None:
            raise  # only our own hard timeout's cancellation: let it end the scope
        record.exception_groups += 1
        record.raised.append(group)
    except Exception as exc:
        record.raw_errors += 1
        record.raised.append(exc)
