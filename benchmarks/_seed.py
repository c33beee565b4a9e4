"""What the benchmark server seeds, shared with clients that must know it without asking."""

from __future__ import annotations

import uuid
from typing import Any

__all__ = ["DATA_ASSET_ID", "computation_extras", "memory_ids"]

#: Memory scenario: its computations' IDs are derived from their index, so the client knows them.
MEMORY_NAMESPACE = uuid.UUID("5d1c1a4e-58f5-4c9e-9a43-2b8f1f5a0c11")
DATA_ASSET_ID = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


def memory_ids(count: int) -> list[str]:
    """The IDs of the memory scenario's seeded computations."""
    return [str(uuid.uuid5(MEMORY_NAMESPACE, f"run-{i}")) for i in range(count)]


def computation_extras(index: int) -> dict[str, Any]:
    """Realistic extra fields of a computation: attached data, parameters."""
    return {
        "data_assets": [{"id": DATA_ASSET_ID, "mount": "Alignment"}],
        "parameters": [
            {"param_name": "bin_size", "value": str(10 + index % 50)},
            {"param_name": "normalize", "value": "RPKM"},
            {"value": f"sample_{index:05d}.bam"},
        ],
    }
