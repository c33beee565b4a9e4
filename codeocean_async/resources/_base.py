"""The base of every resource: what it works with (pipeline, options, ledger), never the client."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from .._config import ClientOptions
from .._shared_waits import SharedWaits

if TYPE_CHECKING:
    from .._http import HTTPPipeline
    from .._launch import LaunchLedger

__all__ = ["Bound", "Resource"]


@attrs.frozen(eq=False)
class Bound:
    """What one client hands its resources: its request pipeline, its options, the ledger of
    the runs it started and the poll loop its waits share (both shared with every copy
    ``with_options`` makes)."""

    http: HTTPPipeline
    options: ClientOptions
    ledger: LaunchLedger
    waits: SharedWaits = attrs.field(factory=SharedWaits)


class Resource:
    """One area of the API (``capsules``, ``computations``, ...), bound to one client's parts."""

    def __init__(self, bound: Bound) -> None:
        self._bound = bound

    @property
    def _http(self) -> HTTPPipeline:
        return self._bound.http

    @property
    def _options(self) -> ClientOptions:
        return self._bound.options

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._bound.options.domain}>"
