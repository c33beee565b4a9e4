"""Decoding: a list of computations structured by our converter vs the official SDK's models."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from codeocean_async import Computation
from codeocean_async._converter import structure
from codeocean_async.testing import FakeCodeOcean

from ._harness import Options, round_robin
from ._report import Metric, Table, Target
from ._seed import DATA_ASSET_ID, computation_extras

NAME = "decoding"


def payload(count: int) -> list[dict[str, Any]]:
    """``count`` computations as the fake serves them (data assets, parameters), parsed JSON."""
    fake = FakeCodeOcean()
    fake.add_data_asset(id=DATA_ASSET_ID, name="Alignment", mount="Alignment")
    capsule = fake.add_capsule(name="deepTools-bamCoverage", versions=(1,))
    outcomes = ("succeeded", "failed", "stopped", "succeeded")
    items = [
        fake.add_computation(
            capsule_id=capsule["id"],
            outcome=outcomes[i % len(outcomes)],
            durations=(0, 0, 0),
            **computation_extras(i),
        )
        for i in range(count)
    ]
    return list(json.loads(json.dumps(items)))


def _timed(decode: Callable[[], object], count: int) -> dict[str, float]:
    started = time.perf_counter()
    decoded = decode()
    took = time.perf_counter() - started
    if not isinstance(decoded, list) or len(decoded) != count:
        raise RuntimeError(f"decoded {decoded!r:.80} instead of {count} computations")
    return {"total": took, "item": took / count}


def run(options: Options) -> Table:
    from codeocean.models.computation import (  # type: ignore[import-untyped]
        Computation as OfficialComputation,
    )

    count = options.pick(10_000, 2_000)
    rounds = options.rounds_for(5, 2)
    data = payload(count)
    raw = json.dumps(data)
    variants = [
        (
            "codeocean_async converter",
            lambda: _timed(lambda: structure(data, list[Computation]), count),
        ),
        (
            "official SDK Computation.from_dict",
            lambda: _timed(lambda: [OfficialComputation.from_dict(d) for d in data], count),
        ),
        ("json.loads of the same list (for scale)", lambda: _timed(lambda: json.loads(raw), count)),
    ]
    rows = round_robin(NAME, variants, rounds)
    table = Table(
        NAME,
        f"decoding ({count:,} computations with data assets and parameters, {rounds} rounds)",
        [Metric("total", "time per list", "s"), Metric("item", "per computation", "us")],
        ratio_key="total",
        rows=rows,
    )
    ours = table.value("codeocean_async converter", "total")
    theirs = table.value("official SDK Computation.from_dict", "total")
    table.notes.append(f"JSON size: {len(raw) / 2**20:.1f} MB; no server involved")
    table.targets = [Target("faster than the official SDK", theirs / ours, 10, op=">=")]
    return table
