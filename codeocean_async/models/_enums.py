"""Open string enums: a value the server adds later is kept and readable, never refused."""

from __future__ import annotations

import enum
from typing import Any

__all__ = ["OpenEnum"]


class OpenEnum(str, enum.Enum):
    """A ``str`` enum that accepts values it does not know.

    ``ComputationState("paused")`` returns an instance whose ``.value`` is ``"paused"`` and whose
    ``known`` is ``False``, so a new server value never breaks decoding and stays readable. It
    compares equal to its string, like every member.
    """

    def __str__(self) -> str:
        return str(self.value)

    @property
    def known(self) -> bool:
        """Whether this value is one of the members this version of the SDK knows."""
        return type(self)._value2member_map_.get(self._value_) is self

    @classmethod
    def _missing_(cls, value: Any) -> OpenEnum | None:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
