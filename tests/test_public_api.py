"""The public surface: everything public is exported from the package root, sorted, and typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import codeocean_async


def test_all_is_sorted_and_unique() -> None:
    assert codeocean_async.__all__ == sorted(set(codeocean_async.__all__))


def test_all_names_exist() -> None:
    for name in codeocean_async.__all__:
        assert hasattr(codeocean_async, name), name


def test_every_model_error_and_resource_is_exported() -> None:
    """Users import from the package root only, so nothing they handle may be missing there."""
    from codeocean_async import _errors, models, resources

    expected = set(models.__all__) | set(resources.__all__)
    expected |= {
        name
        for name in _errors.__all__
        if isinstance(getattr(_errors, name), type)
        and issubclass(getattr(_errors, name), BaseException)
    }
    assert expected <= set(codeocean_async.__all__), expected - set(codeocean_async.__all__)


def test_version_and_py_typed() -> None:
    assert codeocean_async.__version__.count(".") == 2
    assert (Path(codeocean_async.__file__).parent / "py.typed").exists()


def test_importing_the_package_leaves_optional_and_test_only_modules_unimported() -> None:
    # What an import pays for: the aiohttp engine loads on the first request, the batch helpers
    # on a batch's first use, and stamina only when the program itself imported it (its
    # testing switch cannot be on otherwise).
    later = "{'aiohttp', 'stamina', 'codeocean_async._batch', 'codeocean_async._waits'}"
    code = f"import sys, codeocean_async; print(sorted({later} & set(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
