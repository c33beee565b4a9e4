"""The fake's routes for capsules and pipelines beyond metadata and listings: delete, archive,
app panel, permissions, data assets attached (to a capsule, a pipeline or a cloud
workstation's computation), Git sync, releases and release jobs, search."""

from __future__ import annotations

from ._routes import RouteTable

__all__ = ["ROUTES"]

ROUTES: RouteTable = {}
