"""FakeCodeOcean's data asset seeding and inspection (a mixin): how created assets end, how
long they stay draft, the custom metadata schema, and what tests read back."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ._clock import Clock
from ._store import Store

__all__ = ["AssetSeeding"]


class AssetSeeding:
    """The data asset part of ``FakeCodeOcean``."""

    _store: Store
    clock: Clock

    @property
    def data_asset_delay(self) -> float:
        """Seconds on the fake's clock a created data asset stays ``draft`` (1 by default)."""
        return self._store.assets.delay

    @data_asset_delay.setter
    def data_asset_delay(self, seconds: float) -> None:
        if not seconds >= 0:
            raise ValueError(f"data_asset_delay must be >= 0 seconds, not {seconds!r}")
        with self._store.lock:
            self._store.assets.delay = float(seconds)

    def plan_next_data_asset(
        self, *, outcome: str = "ready", reason: str | None = None, delay: float | None = None
    ) -> None:
        """Queue how the next created data asset ends (FIFO, one entry per POST /data_assets):
        ``"ready"`` or ``"failed"`` (with ``failure_reason`` ``reason``), after ``delay``
        seconds (``data_asset_delay`` by default)."""
        with self._store.lock:
            self._store.assets.plan(outcome, reason, delay)

    def set_custom_metadata(self, schema: Mapping[str, Any]) -> None:
        """The schema ``GET /custom_metadata`` answers (``fields`` and ``categories``)."""
        with self._store.lock:
            self._store.assets.custom_metadata = dict(schema)

    @property
    def data_assets(self) -> Mapping[str, dict[str, Any]]:
        """Every data asset's JSON as of now, by id (a read-only snapshot)."""
        with self._store.lock:
            now = self.clock.now()
            book = self._store.assets
            return MappingProxyType(
                {k: book.render(a, now) for k, a in self._store.data_assets.items()}
            )

    @property
    def created_data_assets(self) -> list[str]:
        """The ids of the data assets created by POST /data_assets, in order."""
        with self._store.lock:
            return list(self._store.assets.created)

    @property
    def archived_data_assets(self) -> set[str]:
        """The ids of the archived data assets."""
        with self._store.lock:
            return set(self._store.assets.archived)

    @property
    def data_asset_transfers(self) -> list[dict[str, Any]]:
        """Each transfer received: ``{"data_asset_id", "target", "force"}``, in order."""
        with self._store.lock:
            return [dict(t) for t in self._store.assets.transfers]
