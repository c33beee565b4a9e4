"""Result tables: rows of medians, a ratio column, targets met or not; text, JSON, machine info."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Metric", "Row", "Table", "Target", "machine", "median_of"]

#: How a metric's value (always stored in base units: seconds, bytes, counts) is shown.
_FORMATS = {
    "ms": lambda v: f"{v * 1000:.3f} ms",
    "us": lambda v: f"{v * 1e6:.1f} us",
    "s": lambda v: f"{v:.2f} s",
    "rate": lambda v: f"{v:,.0f}/s",
    "count": lambda v: f"{v:.2f}",
    "mb": lambda v: f"{v / 2**20:.1f} MB",
    "pct": lambda v: f"{v * 100:.0f}%",
    "x": lambda v: f"{v:.2f}x",
}

PACKAGES = (
    "codeocean-async",
    "httpx",
    "httpcore",
    "aiohttp",
    "httpx-aiohttp",
    "anyio",
    "attrs",
    "cattrs",
    "uvicorn",
    "uvloop",
    "httptools",
    "trio",
    "psutil",
    "codeocean",
    "requests",
    "dataclasses-json",
)


@dataclass
class Metric:
    """A column: the key of a row's value, its header, and how to show it (see _FORMATS)."""

    key: str
    header: str
    unit: str

    def show(self, value: float | None) -> str:
        return "-" if value is None else _FORMATS[self.unit](value)


@dataclass
class Row:
    """One variant: the median of each metric over the rounds, and every round's figures."""

    label: str
    values: dict[str, float]
    rounds: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Target:
    """A goal the issue sets: ``value`` must be ``op`` (``<=`` or ``>=``) ``limit``."""

    label: str
    value: float
    limit: float
    op: str = "<="
    unit: str = "x"

    @property
    def met(self) -> bool:
        return self.value <= self.limit if self.op == "<=" else self.value >= self.limit

    def text(self) -> str:
        verdict = "MET" if self.met else "NOT MET"
        goal = f"{self.op} {self.limit:g}{self.unit} {self.label}"
        return f"{goal}: {verdict} ({self.value:.2f}{self.unit})"


@dataclass
class Table:
    """A scenario's result. The ratio column divides ``ratio_key`` by the first row's."""

    name: str
    title: str
    columns: list[Metric]
    ratio_key: str | None = None
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def row(self, label: str) -> Row:
        return next(r for r in self.rows if r.label == label)

    def value(self, label: str, key: str) -> float:
        return self.row(label).values[key]

    def render(self) -> str:
        headers = [c.header for c in self.columns] + (["ratio"] if self.ratio_key else [])
        cells = []
        reference = self.rows[0].values.get(self.ratio_key or "", 0.0) if self.rows else 0.0
        for row in self.rows:
            line = [c.show(row.values.get(c.key)) for c in self.columns]
            if self.ratio_key:
                mine = row.values.get(self.ratio_key)
                line.append("-" if mine is None or not reference else f"{mine / reference:.2f}")
            cells.append(line)
        label_width = max([len(self.title) + 3] + [len(r.label) + 5 for r in self.rows])
        widths = [max([len(h)] + [len(c[i]) for c in cells]) + 3 for i, h in enumerate(headers)]
        out = [
            self.title.ljust(label_width)
            + "".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
        ]
        for row, line in zip(self.rows, cells, strict=True):
            text = ("  " + row.label).ljust(label_width)
            out.append(text + "".join(v.ljust(w) for v, w in zip(line, widths, strict=True)))
        if self.ratio_key:
            ratio_of = next(c.header for c in self.columns if c.key == self.ratio_key)
            out.append(f"  (ratio: {ratio_of} / first row's)")
        out.extend("  " + note for note in self.notes)
        if self.targets:
            out.append("  targets: " + "; ".join(t.text() for t in self.targets))
        return "\n".join(line.rstrip() for line in out)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for target, item in zip(self.targets, data["targets"], strict=True):
            item["met"] = target.met
        return data


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    """The median of each key over the rounds (keys missing from a round are skipped)."""
    keys = {k for r in rounds for k in r}
    return {k: statistics.median(r[k] for r in rounds if k in r) for k in sorted(keys)}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(pinning: str) -> dict[str, Any]:
    """What the figures were measured on."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "pinning": pinning,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "packages": versions,
    }


def render_machine(info: dict[str, Any]) -> str:
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items())
    return "\n".join(
        [
            "machine",
            f"  CPU: {info['cpu']}, {info['cores']} cores ({info['pinning']})",
            f"  Python: {info['python']} on {info['platform']}",
            f"  packages: {packages}",
        ]
    )
