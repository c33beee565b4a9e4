"""The layers of ARCHITECTURE.md, read from the source: every import goes down (or sideways).

Each package module belongs to one layer; a module imports only from its own layer or those
below, at any level of the file (``TYPE_CHECKING`` blocks and functions included). The helpers
take what they need as callables, so they import neither the request pipeline nor the launch.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "codeocean_async"

#: Lowest first; the names are modules (``models`` and ``resources`` stand for their packages).
LAYERS: list[tuple[str, set[str]]] = [
    (
        "foundation",
        {
            "_version",
            "_retry_after",
            "_errors",
            "_ids",
            "_config",
            "_checks",
            "_converter",
            "_body",
            "_domain",
            "_legacy",
            "_operations",
            "models",
        },
    ),
    (
        "request pipeline",
        {
            "_redact",
            "_status",
            "_wire",
            "_retry",
            "_attempt",
            "_auth",
            "_trace",
            "_before_send",
            "_sender",
            "_shards",
            "_transport",
            "_aiohttp_engine",
            "_http",
            "_download",
        },
    ),
    ("launch", {"_reconcile", "_launch", "_capture"}),
    (
        "helpers",
        {
            "_pacing",
            "_pages",
            "_guard",
            "_wait_state",
            "_scheduler",
            "_shared_waits",
            "_polling",
            "_waits",
            "_specs",
            "_launcher",
            "_outcomes",
            "_batch",
            "_tree",
        },
    ),
    ("resources", {"resources"}),
    ("client", {"_client"}),
    (
        "surface",
        {
            "__init__",
            "__main__",
            "cli",
            "_cli",
            "_demo",
            "testing",
            "airflow",
            "_airflow_provider",
            "_airflow_support",
        },
    ),
]
HELPERS_NEVER_IMPORT = {"_http", "_launch", "_reconcile", "_capture", "_client", "resources"}


def _unit(module: str) -> str:
    """The layer unit of a dotted module name inside the package (``resources.capsules``...)."""
    head = module.split(".")[0]
    return "_cli" if head.startswith("_cli_") else head


def _layer(unit: str) -> int:
    for level, (_, units) in enumerate(LAYERS):
        if unit in units:
            return level
    raise AssertionError(f"{unit} has no layer: add it to LAYERS here and to ARCHITECTURE.md")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module inside the package) for every import of a package module in ``path``."""
    relative = path.relative_to(PACKAGE).with_suffix("")
    package = list(relative.parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                found.append((node.lineno, ".".join([*base, node.module])))
            else:  # ``from . import x``: x is a module of the package named by the dots
                found += [(node.lineno, ".".join([*base, a.name])) for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("codeocean_async."):
                    found.append((node.lineno, alias.name.removeprefix("codeocean_async.")))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("codeocean_"):
            module = node.module or ""
            if module == "codeocean_async":
                found.append((node.lineno, "__init__"))
            elif module.startswith("codeocean_async."):
                found.append((node.lineno, module.removeprefix("codeocean_async.")))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_import_goes_down_the_layers(path: Path) -> None:
    relative = path.relative_to(PACKAGE).with_suffix("")
    unit = _unit(".".join(relative.parts))
    level = _layer(unit)
    for line, module in _imports(path):
        target = _unit(module)
        where = f"{relative}:{line} imports {module}"
        assert _layer(target) <= level, f"{where}, a layer above ({LAYERS[_layer(target)][0]})"
        if LAYERS[level][0] == "helpers":
            assert target not in HELPERS_NEVER_IMPORT, f"{where}: helpers take callables"
