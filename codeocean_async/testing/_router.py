"""The fake's one route table, joined from each area's module, and the lookup of a path in it."""

from __future__ import annotations

from ._routes import CORE, Handler, RouteTable
from ._routes_assets import ROUTES as ASSETS
from ._routes_files import ROUTES as FILES
from ._routes_parents import ROUTES as PARENTS

__all__ = ["ROUTES", "match_route", "merged"]


def merged(*tables: RouteTable) -> RouteTable:
    """One table of several (a pattern's methods from every table that has it)."""
    result: RouteTable = {}
    for table in tables:
        for pattern, handlers in table.items():
            mine = result.setdefault(pattern, {})
            clash = set(mine) & set(handlers)
            if clash:
                raise ValueError(f"{'/'.join(pattern)}: {sorted(clash)} routed twice")
            mine.update(handlers)
    return result


#: Every route; literal segments first (``capsules/search`` before ``capsules/*``).
ROUTES: RouteTable = dict(
    sorted(merged(CORE, PARENTS, ASSETS, FILES).items(), key=lambda item: item[0].count("*"))
)


def match_route(segments: list[str]) -> tuple[dict[str, Handler], tuple[str, ...]] | None:
    """The handlers by method and the path parameters for ``segments`` (after /api/v1)."""
    for pattern, handlers in ROUTES.items():
        if len(pattern) != len(segments):
            continue
        params = []
        for want, got in zip(pattern, segments, strict=True):
            if want == "*" and got:
                params.append(got)
            elif want != got:
                break
        else:
            return handlers, tuple(params)
    return None
