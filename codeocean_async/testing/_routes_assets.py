"""The fake's routes for data assets (beyond a plain get) and custom metadata: create (every
source kind), update, delete, archive, permissions, search, transfer, captures."""

from __future__ import annotations

from ._routes import RouteTable

__all__ = ["ROUTES"]

ROUTES: RouteTable = {}
