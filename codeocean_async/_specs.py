"""Run specs as data: checked whole before a batch starts, and kept in JSON lines files."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO

from ._body import json_body
from ._converter import from_json, to_json
from .models import RunParams
from .models.run_params import check_run_ids

__all__ = ["Spec", "check_concurrency", "read_specs", "to_run_params", "write_specs"]

#: A run spec: a ``RunParams``, or a mapping of ``computations.run``'s keyword arguments.
Spec = RunParams | Mapping[str, Any]


@contextmanager
def _at(where: str, error: type[ValueError] | None = None) -> Iterator[None]:
    """Re-raise a ``TypeError`` or ``ValueError`` with ``where`` before its message (as
    ``error`` when given, else as a plain ``TypeError`` or ``ValueError``)."""
    try:
        yield
    except (TypeError, ValueError) as exc:
        kind = error or (TypeError if isinstance(exc, TypeError) else ValueError)
        raise kind(f"{where}: {exc}") from exc


def to_run_params(specs: Iterable[Spec]) -> list[RunParams]:
    """Every spec as a ``RunParams``, checked before anything is sent (errors name the index).

    ``RunParams`` checks its own fields; here each is also hashed (the launch ledger keys on it)
    and serialised (the bytes kept as its request body: ``json_body``), so nothing about a
    spec can fail once the batch has started.
    """
    result = []
    for index, spec in enumerate(specs):
        with _at(f"spec {index}"):
            if isinstance(spec, Mapping):
                spec = RunParams(**spec)
            elif not isinstance(spec, RunParams):
                raise TypeError(f"expected a RunParams or a mapping, not {type(spec).__name__}")
            check_run_ids(spec)
            hash(spec)
            json_body(spec)
        result.append(spec)
    return result


def check_concurrency(concurrency: int, launch_interval: float | None) -> None:
    """Refuse a ``concurrency`` below 1 (or not whole) and a negative ``launch_interval``."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number >= 1, not {concurrency!r}")
    if launch_interval is not None and not launch_interval >= 0:
        raise ValueError(f"launch_interval must be seconds >= 0 or None, not {launch_interval!r}")


def read_specs(
    source: str | os.PathLike[str] | TextIO, *, name: str | None = None
) -> list[RunParams]:
    """Run specs from a JSON lines file or open text stream (one ``RunParams`` a line).

    Each line is a ``RunParams`` as JSON, in any form the Python API takes (``named_parameters``
    as ``{"name": "value"}`` or a list of ``{"param_name", "value"}``; data assets as ``"ID"``,
    ``"ID:MOUNT"`` or ``{"id", "mount"}``). Blank lines are skipped. Every spec is checked as
    ``run`` would check it; ``ValueError`` names the line (in ``name``; default: the path, or the
    stream's name) and the field of the first one that does not fit, UTF-8 errors included.
    """
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as lines:
            return _read_lines(lines, name or os.fspath(source))
    stream: Iterable[str | bytes] = getattr(source, "buffer", source)  # bytes where there are
    return _read_lines(stream, name or str(getattr(source, "name", "<stream>")))


def _read_lines(lines: Iterable[str | bytes], name: str) -> list[RunParams]:
    specs = []
    for number, line in enumerate(lines, start=1):
        try:
            text = line.decode("utf-8") if isinstance(line, bytes) else line
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{name}, line {number}: not UTF-8 text (byte {exc.start + 1} of the line)"
            ) from None
        if not text.strip():
            continue
        with _at(f"{name}, line {number}", ValueError):
            specs.append(from_json(RunParams, text))
    return specs


def write_specs(path: str | os.PathLike[str], specs: Iterable[RunParams]) -> None:
    """Write run specs as JSON lines, for ``read_specs`` (or ``codeocean-async run-many``)."""
    with open(path, "w", encoding="utf-8") as out:
        for spec in _iter_checked(specs):
            out.write(to_json(spec) + "\n")


def _iter_checked(specs: Iterable[RunParams]) -> Iterator[RunParams]:
    for index, spec in enumerate(specs):
        with _at(f"spec {index}"):
            if not isinstance(spec, RunParams):
                raise TypeError(f"expected a RunParams, not {type(spec).__name__}")
        yield spec
