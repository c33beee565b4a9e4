"""The fake's data asset state machine: each asset is ``draft`` until its planned time on the
fake's clock, then ``ready`` (or ``failed``, with a reason); and what else the fake keeps of
data assets (permissions, archive flags, transfers, the custom metadata schema)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_CUSTOM_METADATA", "AssetBook", "Lifecycle"]

#: The custom metadata schema a fake serves until a test sets another.
DEFAULT_CUSTOM_METADATA: dict[str, Any] = {
    "fields": [
        {"name": "Species", "type": "string", "allowed_values": ["mouse", "human"]},
        {"name": "Age", "type": "number", "range": {"min": 0, "max": 120}, "units": "years"},
        {"name": "Collected", "type": "date", "required": False},
    ],
    "categories": ["Subject"],
}

OUTCOMES = ("ready", "failed")


@dataclass
class Lifecycle:
    """When a created data asset leaves ``draft`` (clock time) and how."""

    ends_at: float
    outcome: str = "ready"
    reason: str | None = None


@dataclass
class AssetBook:
    """What the fake keeps of data assets beside their JSON (``Store.data_assets``)."""

    #: Seconds a created data asset stays ``draft`` unless a plan says otherwise.
    delay: float = 1.0
    plans: deque[tuple[str, str | None, float | None]] = field(default_factory=deque)
    lifecycles: dict[str, Lifecycle] = field(default_factory=dict)
    permissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    archived: set[str] = field(default_factory=set)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    custom_metadata: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_CUSTOM_METADATA))

    def plan(self, outcome: str, reason: str | None, delay: float | None) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
        if delay is not None and not delay >= 0:
            raise ValueError(f"delay must be >= 0 seconds, not {delay!r}")
        self.plans.append((outcome, reason, delay))

    def start(self, asset_id: str, now: float) -> None:
        """A new asset: ``draft`` until the next plan's (or the default) delay has passed."""
        outcome, reason, delay = self.plans.popleft() if self.plans else ("ready", None, None)
        if outcome == "failed" and reason is None:
            reason = "the files could not be copied"
        ends_at = now + (self.delay if delay is None else delay)
        self.lifecycles[asset_id] = Lifecycle(ends_at, outcome, reason)
        self.created.append(asset_id)

    def render(self, asset: dict[str, Any], now: float) -> dict[str, Any]:
        """The JSON the API returns for ``asset`` at clock time ``now``."""
        body = dict(asset)
        life = self.lifecycles.get(str(asset["id"]))
        if life is None:
            return body
        if now < life.ends_at:
            body["state"] = "draft"
        elif life.outcome == "failed":
            body["state"] = "failed"
            body["failure_reason"] = life.reason
        else:
            body["state"] = "ready"
        return body

    def forget(self, asset_id: str) -> None:
        self.lifecycles.pop(asset_id, None)
        self.permissions.pop(asset_id, None)
        self.archived.discard(asset_id)
