"""The fake's routes for results and files: a computation's results folders and file URLs, a
data asset's files and their URLs (signed URLs answered by the storage host)."""

from __future__ import annotations

from ._routes import RouteTable

__all__ = ["ROUTES"]

ROUTES: RouteTable = {}
