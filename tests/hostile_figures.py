"""The hostile soak's figures: one engine's soak, counted against the fake's record, as a table.

The six figures the issue names, each of which must be 0:

- specs with no outcome: specs missing from every list a batch returned;
- duplicate computations: specs the fake started more than one computation for (each spec has
  its own parameter, so each computation maps to its spec);
- started but unreported: computations the fake created whose spec's outcome does not name them
  (its ``computation``, ``attempts``, an error's ``computation`` or ``candidates``), does not
  say the launch is uncertain (a ``LaunchUncertainError``: "may have started" is a report), and
  no ``BatchCancelled`` names;
- requests past their bound: measured on the server, which sees every attempt from its first
  byte to its last (or to the moment the client let go): a launch's attempts (same body) from
  the first one's start to the last one's end, and every other exchange, longer than
  ``RetryPolicy.timeout`` plus a slack. A second count reads the durations the SDK logs per
  attempt (DEBUG and INFO lines) against the same bound;
- ExceptionGroups reaching a batch's caller;
- token occurrences: the token's ASCII tail (in every spelling but base64) and its base64 form,
  counted in every outcome's repr, every error's str, repr, message, body and chain, every event,
  everything a batch raised, and every log line captured at DEBUG.

Besides them: batches stopped by the hard timeout (a hang), and other exceptions reaching a
batch's caller.
"""

from __future__ import annotations

import collections
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import stamina

import codeocean_async as co
from codeocean_async.testing import Exchange, FakeCodeOcean, serve_hostile_in_thread

from .hostile_soak import (
    B64,
    CAPSULES,
    RUN_DURATIONS,
    SPELLINGS,
    TAIL,
    TOKEN,
    Record,
    Size,
    bound,
    captured_logs,
    drive,
    hostile_mix,
    tame_mix,
)

#: The figures the issue asks for, each asserted 0, then the other two, in table order.
ZERO = ("no outcome", "duplicates", "unreported", "past bound", "ExceptionGroups", "tokens")
ALSO_ZERO = ("past bound (SDK logs)", "hung (hard timeout)", "raw exceptions")
#: How long past its hard timeout a run may take to stop before it is left behind.
GIVE_UP_AFTER = 30.0
_LOGGED_SECONDS = re.compile(r"(?:failed after|in) (\d+(?:\.\d+)?) s \(attempt")


@dataclass
class Figures:
    engine: str
    counts: dict[str, int] = field(default_factory=dict)
    wall: float = 0.0
    worst_request: float = 0.0
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    #: Texts the token was seen in, by where (``error``, ``chain repr``, ``log``...) and by
    #: spelling (``raw``, ``percent``...).
    leaks_where: collections.Counter[str] = field(default_factory=collections.Counter)
    leaks_spelling: collections.Counter[str] = field(default_factory=collections.Counter)
    created: int = 0

    def nonzero(self) -> dict[str, int]:
        return {k: v for k, v in self.counts.items() if v}


def soak_engine(engine: str, backend: str, size: Size, seed: int) -> Figures:
    """Run the soak on one engine and backend; count what the caller saw against the fake."""
    fake = FakeCodeOcean(token=TOKEN)
    capsules = [fake.add_capsule(run_durations=RUN_DURATIONS)["id"] for _ in range(CAPSULES)]
    mix = hostile_mix() if size.hostile else tame_mix()
    for n, ((method, route), choices) in enumerate(mix.items()):
        fake.faults.random(method, route, rate=size.rates[n], choices=choices, seed=seed + n)
    exchanges: list[Exchange] = []
    record = Record()
    started = time.monotonic()
    with (
        stamina.set_testing(False),  # real backoff: it counts against the budget
        captured_logs() as logs,
        serve_hostile_in_thread(fake, exchanges=exchanges) as url,
    ):
        run_in_thread(drive, url, engine, size, record, capsules, backend=backend)
    figures = Figures(f"{engine}/{backend}", wall=time.monotonic() - started)
    count(figures, fake, record, exchanges, logs.texts, size)
    return figures


def run_in_thread(*args: Any, backend: str) -> None:
    """``anyio.run(*args)`` in a thread of its own, given up on if it outlives its hard
    timeout by far (an SDK that swallowed the cancellation): that counts as a hang too."""
    record: Record = args[4]
    size: Size = args[3]

    def target() -> None:
        try:
            anyio.run(*args, backend=backend)
        except Exception as exc:  # the harness reports whatever escapes
            record.raised.append(exc)
            record.raw_errors += 1

    thread = threading.Thread(target=target, name="hostile-soak", daemon=True)
    thread.start()
    thread.join(size.hard_timeout + GIVE_UP_AFTER)
    if thread.is_alive():
        record.hung += 1


def count(
    figures: Figures,
    fake: FakeCodeOcean,
    record: Record,
    exchanges: list[Exchange],
    logs: list[str],
    size: Size,
) -> None:
    computations = fake.computations
    by_spec: dict[int, list[str]] = collections.defaultdict(list)
    for cid in fake.created_computations:
        by_spec[int(computations[cid]["parameters"][0]["value"].removeprefix("soak-"))].append(cid)
    figures.created = len(fake.created_computations)
    cancelled_started, cancelled_in_flight = _cancelled(record)
    unreported = 0
    for index, ids in by_spec.items():
        named, uncertain = _named(record.outcomes.get(index))
        for cid in ids:
            if not (
                uncertain
                or cid in named
                or cid in cancelled_started
                or index in cancelled_in_flight
            ):
                unreported += 1
    past, worst = _past_bound(exchanges)
    logged = [float(m.group(1)) for t in logs if (m := _LOGGED_SECONDS.search(t))]
    texts = list(_visible_texts(record))
    figures.counts = {
        "no outcome": size.launches - len(record.outcomes),
        "duplicates": sum(1 for ids in by_spec.values() if len(ids) > 1),
        "unreported": unreported,
        "past bound": past,
        "ExceptionGroups": record.exception_groups,
        "tokens": _tokens([*texts, *(("log", t) for t in logs)], figures),
        "past bound (SDK logs)": sum(1 for s in logged if s > bound()),
        "hung (hard timeout)": record.hung,
        "raw exceptions": record.raw_errors,
    }
    figures.worst_request = max([worst, *logged])
    for _method, _path, fault in fake.faults.injected:
        kind = fault.kind + (f":{fault.variant}" if fault.kind == "malformed_http" else "")
        figures.faults[kind] += 1
    for outcome in record.outcomes.values():
        figures.outcomes[_kind(outcome)] += 1
    for exc in record.raised:
        figures.outcomes[f"batch raised {type(exc).__name__}"] += 1


def _cancelled(record: Record) -> tuple[set[str], set[int]]:
    started: set[str] = set()
    in_flight: set[int] = set()
    for batch, event in record.events:
        if isinstance(event, co.BatchCancelled):
            for ids in event.started.values():
                started.update(ids)
            in_flight.update(batch.indices[local] for local in event.in_flight)
    return started, in_flight


def _named(outcome: Any) -> tuple[set[str], bool]:
    """The computation IDs an outcome names, and whether it says the launch is uncertain."""
    if outcome is None:
        return set(), False
    named = set(getattr(outcome, "attempts", ()))
    if outcome.computation is not None:
        named.add(outcome.computation.id)
    error = outcome.error
    uncertain = isinstance(error, co.LaunchUncertainError)
    if error is not None:
        named.update(c.id for c in getattr(error, "candidates", ()))
        seen = getattr(error, "computation", None)
        if seen is not None:
            named.add(seen.id)
    return named, uncertain


def _past_bound(exchanges: list[Exchange]) -> tuple[int, float]:
    """Requests longer than their bound: a launch's attempts together, any other exchange."""
    launches: dict[bytes, list[Exchange]] = collections.defaultdict(list)
    spans = []
    for exchange in exchanges:
        if exchange.method == "POST" and exchange.path.endswith("/computations"):
            launches[exchange.body].append(exchange)
        else:
            spans.append(exchange.seconds)
    for attempts in launches.values():
        first = min(e.started for e in attempts)
        spans.append(max(e.started + e.seconds for e in attempts) - first)
    limit = bound()
    return sum(1 for s in spans if s > limit), max(spans, default=0.0)


def _exception_texts(
    exc: BaseException, where: str = "error", seen: set[int] | None = None
) -> Iterator[tuple[str, str]]:
    """What a caller can read of an exception: str, repr, message, body, notes, then its chain
    (each text labelled: ``error``, or ``chain`` for what it was raised from or during)."""
    seen = set() if seen is None else seen
    if id(exc) in seen:
        return
    seen.add(id(exc))
    yield where, str(exc)
    yield f"{where} repr", repr(exc)
    for name in ("message", "body", "__notes__"):
        value = getattr(exc, name, None)
        if value is not None:
            yield f"{where} .{name}", str(value)
            yield f"{where} .{name}", repr(value)
    for inner in getattr(exc, "exceptions", ()):
        yield from _exception_texts(inner, where, seen)
    for linked in (exc.__cause__, exc.__context__):
        if linked is not None:
            yield from _exception_texts(linked, "chain", seen)


def _visible_texts(record: Record) -> Iterable[tuple[str, str]]:
    for outcome in record.outcomes.values():
        yield "outcome repr", repr(outcome)
        if outcome.error is not None:
            yield from _exception_texts(outcome.error)
    for _batch, event in record.events:
        yield "event repr", repr(event)
        error = getattr(event, "error", None)
        if isinstance(error, BaseException):
            yield from _exception_texts(error)
    for exc in record.raised:
        yield from _exception_texts(exc, "raised")


def _tokens(texts: Iterable[tuple[str, str]], figures: Figures) -> int:
    """Occurrences of the token in ``(where, text)`` pairs; the figures' leak counters count the
    texts by where and by spelling (``other``: none listed, say the repr of a JSON-escaped one).
    """
    found = 0
    b64 = B64.rstrip("=")
    for where, text in texts:
        hits = text.count(TAIL) + text.count(b64)
        if hits:
            found += hits
            figures.leaks_where[where] += 1
            names = [name for name, spelling in SPELLINGS.items() if spelling in text]
            figures.leaks_spelling.update(names or ["other"])
    return found


def _kind(outcome: Any) -> str:
    prefix = "launch " if isinstance(outcome, co.LaunchOutcome) else ""
    if outcome.error is not None:
        return prefix + type(outcome.error).__name__
    if outcome.computation is None:
        return prefix + "not sent"
    if prefix:
        return "launched"
    return str(outcome.computation.outcome.value if outcome.computation.outcome else "running")


def table(all_figures: list[Figures], size: Size) -> str:
    """One screen: the figures per engine, then faults and outcomes by kind, and wall time."""
    width = 22
    head = f"{'':<24}" + "".join(f"{f.engine:>{width}}" for f in all_figures)
    rows = [
        f"hostile soak: {size.launches} launches per engine, concurrency {size.concurrency} x 4 "
        f"batches, bound {bound():.1f} s per request",
        head,
    ]
    for name in (*ZERO, *ALSO_ZERO):
        rows.append(
            f"{name:<24}" + "".join(f"{f.counts.get(name, 0):>{width}}" for f in all_figures)
        )
    rows.append(
        f"{'computations created':<24}" + "".join(f"{f.created:>{width}}" for f in all_figures)
    )
    rows.append(
        f"{'worst request (s)':<24}"
        + "".join(f"{f.worst_request:>{width}.1f}" for f in all_figures)
    )
    rows.append(f"{'wall time (s)':<24}" + "".join(f"{f.wall:>{width}.1f}" for f in all_figures))
    for f in all_figures:
        rows.append(f"{f.engine} faults: " + _compact(f.faults))
        rows.append(f"{f.engine} outcomes: " + _compact(f.outcomes))
        if f.leaks_where:
            rows.append(f"{f.engine} token seen in: " + _compact(f.leaks_where))
            rows.append(f"{f.engine} token spellings: " + _compact(f.leaks_spelling))
    return "\n".join(rows)


def _compact(counter: collections.Counter[str], room: int = 8) -> str:
    """``a 3, b 2, ...``: the ``room`` most common, then how many kinds are left out."""
    shown = ", ".join(f"{k} {v}" for k, v in counter.most_common(room))
    left = len(counter) - room
    return shown + (f", {left} more" if left > 0 else "")
