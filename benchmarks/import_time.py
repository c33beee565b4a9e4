"""Import time: wall time of a fresh ``python -c "import ..."``, ours vs the official SDK."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial

from ._harness import ROOT, Options, round_robin
from ._report import Metric, Table, Target

NAME = "import_time"
STATEMENTS = {
    "import codeocean_async": "import codeocean_async",
    "import codeocean_async + its aiohttp engine": "import codeocean_async, httpx_aiohttp",
    "import codeocean (official SDK)": "import codeocean",
    "python -c pass (interpreter start)": "pass",
}


def _time(statement: str) -> dict[str, float]:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=ROOT, check=True)
    return {"wall": time.perf_counter() - started}


def run(options: Options) -> Table:
    rounds = options.rounds if options.rounds is not None else options.pick(15, 3)
    rounds = max(rounds, 3)  # a median of fewer fresh processes says little
    variants: list[tuple[str, Callable[[], dict[str, float]]]] = [
        (label, partial(_time, statement)) for label, statement in STATEMENTS.items()
    ]
    rows = round_robin(NAME, variants, rounds)
    start = rows[-1].values["wall"]
    for row in rows:
        row.values["net"] = row.values["wall"] - start
    table = Table(
        NAME,
        f"import time (median of {rounds} fresh processes each)",
        [Metric("wall", "wall", "ms"), Metric("net", "minus interpreter start", "ms")],
        ratio_key="net",
        rows=rows,
    )
    ours = table.value("import codeocean_async", "net")
    theirs = table.value("import codeocean (official SDK)", "net")
    table.notes.append("the aiohttp engine is imported on the first request, not on import")
    table.targets = [Target("the official SDK's import time", ours / theirs, 1.0)]
    return table
