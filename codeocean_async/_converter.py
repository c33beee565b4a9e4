"""The private cattrs converter: every (de)serialization rule, and JSON in and out of models.

Built the way ``cattrs.preconf`` builds one: ``configure_converter`` registers hooks on a fresh
``Converter``; ``make_converter`` returns it. Response models are tolerant (unknown keys ignored,
missing optional keys ``None``, numbers accepted as int or float, unknown enum values kept);
request models are built by their own classes (which check every field; unknown keys refused)
and omit unset fields when unstructured.
"""

from __future__ import annotations

import enum
import functools
import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import IterableValidationNote
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn

from ._checks import SpecError, check_url_ids, format_error, structure_request
from ._legacy import register_legacy
from .models import (
    Computation,
    DataAssetsRunParam,
    NamedRunParam,
    PipelineProcessParams,
    RunParams,
)
from .models._enums import OpenEnum
from .models._request import is_request_model
from .models.capsules import Version

__all__ = ["from_json", "make_converter", "structure", "to_json", "unstructure"]

T = TypeVar("T")

_NULL_MEANS_UNSET: tuple[type[Any], ...] = (Computation, Version)
_REQUEST_MODELS: tuple[type[Any], ...] = (
    RunParams,
    DataAssetsRunParam,
    NamedRunParam,
    PipelineProcessParams,
)


def _structure_int(value: Any, _: Any) -> int:
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"expected a finite number, got {value!r}")
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise TypeError(f"expected a number, got {type(value).__name__}")


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # e.g. a numeric slug
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError(f"expected true or false, got {type(value).__name__}")


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return cls(value)  # an OpenEnum keeps a value it does not know


def _is_homogeneous_tuple(t: Any) -> bool:
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis


def _is_json_array(t: Any) -> bool:
    return _is_homogeneous_tuple(t) or (
        typing.get_origin(t) is list and len(typing.get_args(t)) == 1
    )


def _is_optional(t: Any) -> bool:
    """``X | None`` in either spelling: a missing or null value is ``None``."""
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    return (
        (origin is typing.Union or origin is types.UnionType)
        and len(args) == 2
        and (type(None) in args)
    )


def _register_null_means_unset(conv: cattrs.Converter, cls: type[Any]) -> None:
    """A JSON null for a field with a non-null default (``run_time``) means the key is unset."""
    names = tuple(
        f.name
        for f in attrs.fields(cls)
        if f.default is not attrs.NOTHING and f.default is not None
    )
    base = make_dict_structure_fn(cls, conv)

    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, Mapping):
            for name in names:  # (a loop, not any() over a generator: this runs per answer)
                if value.get(name, 0) is None:
                    value = {k: v for k, v in value.items() if not (v is None and k in names)}
                    break
        return base(value, cls)

    conv.register_structure_hook(cls, structure)


def configure_converter(conv: cattrs.Converter) -> None:
    """Register every rule on ``conv``. Simple types first: generated hooks look them up eagerly."""
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(bool, _structure_bool)
    # Our enums are str subclasses: register their bases so they never fall into the str hook
    # (singledispatch follows the MRO, where OpenEnum comes before str).
    conv.register_structure_hook(enum.Enum, _structure_enum)
    conv.register_structure_hook(OpenEnum, _structure_enum)

    # Factories take the converter they run on (a copy uses its own).
    def optional_hook(t: Any, on: cattrs.Converter) -> Callable[[Any, Any], Any]:
        inner = next(a for a in typing.get_args(t) if a is not type(None))
        handler = on.get_structure_hook(inner)
        return lambda v, _: None if v is None else handler(v, inner)

    conv.register_structure_hook_factory(_is_optional, optional_hook)

    def sequence_hook(t: Any, on: cattrs.Converter) -> Callable[[Any, Any], Any]:
        """``list[X]`` and ``tuple[X, ...]`` from a JSON array only (never a string or object)."""
        item = typing.get_args(t)[0]
        handler = on.get_structure_hook(item)
        make = tuple if typing.get_origin(t) is tuple else list

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            if not on.detailed_validation:
                return make(handler(v, item) for v in value)
            result, errors = [], []
            for index, v in enumerate(value):
                try:
                    result.append(handler(v, item))
                except Exception as exc:  # collected, with the index, for the field path
                    note = IterableValidationNote(f"Structuring {t} @ index {index}", index, item)
                    setattr(exc, "__notes__", [*getattr(exc, "__notes__", []), note])  # noqa: B010
                    errors.append(exc)
            if errors:
                raise cattrs.IterableValidationError(f"While structuring {t!r}", errors, t)
            return make(result)

        return structure

    conv.register_structure_hook_factory(_is_json_array, sequence_hook)
    conv.register_unstructure_hook(enum.Enum, lambda member: member.value)
    conv.register_unstructure_hook(OpenEnum, lambda member: member.value)
    conv.register_unstructure_hook_factory(
        _is_homogeneous_tuple,
        lambda t: lambda value: [conv.unstructure(v) for v in value],
    )

    for cls in _NULL_MEANS_UNSET:
        _register_null_means_unset(conv, cls)

    register_legacy(conv)

    # Request models are built by their own classes, which check every field and accept every
    # form the Python API accepts (``named_parameters`` as an object, data assets as "ID:MOUNT").
    for cls in _REQUEST_MODELS:
        conv.register_structure_hook(cls, structure_request)
        conv.register_unstructure_hook(
            cls, make_dict_unstructure_fn(cls, conv, _cattrs_omit_if_default=True)
        )

    # Every other request model (``models._request.RequestModel``): built by its class, which
    # checks its fields; sent without its unset fields.
    conv.register_unstructure_hook_factory(
        is_request_model,
        lambda t: make_dict_unstructure_fn(t, conv, _cattrs_omit_if_default=True),
    )

    check_url_ids(conv, Computation, ("id",))


def make_converter(*, detailed_validation: bool = False) -> cattrs.Converter:
    """A fresh converter with every rule; ``detailed_validation`` collects field paths on error."""
    conv = cattrs.Converter(detailed_validation=detailed_validation)
    configure_converter(conv)
    return conv


# Structuring runs on the fast converter; only a failure is re-run on the detailed one, to name
# the field paths in the error. Both are built on first use (their hooks are generated code that
# importing the package need not pay for).
@functools.cache
def _converter(*, detailed: bool) -> cattrs.Converter:
    return make_converter(detailed_validation=detailed)


def structure(data: Any, cls: type[T]) -> T:
    """Build ``cls`` from JSON-shaped ``data``; raises ``ValueError`` naming each bad field path."""
    try:
        return _converter(detailed=False).structure(data, cls)
    except SpecError:
        raise
    except Exception:
        pass
    try:
        return _converter(detailed=True).structure(data, cls)
    except Exception as exc:
        errors = _error_paths(exc)
        args = typing.get_args(cls)
        name = f"list of {args[0].__name__}" if args else getattr(cls, "__name__", str(cls))
        raise _StructureError(f"{name} did not fit: " + "; ".join(errors), errors) from exc


class _StructureError(ValueError):
    def __init__(self, message: str, errors: tuple[str, ...]) -> None:
        super().__init__(message)
        self.errors = errors


def _error_paths(exc: BaseException) -> tuple[str, ...]:
    if isinstance(exc, (cattrs.ClassValidationError, cattrs.IterableValidationError)):
        return tuple(cattrs.transform_error(exc, path="$", format_exception=format_error))
    return (f"{type(exc).__name__}: {exc} @ $",)


def unstructure(obj: Any) -> Any:
    """The JSON-shaped form of a model (unset request fields left out)."""
    return _converter(detailed=False).unstructure(obj)


def to_json(obj: Any) -> str:
    """Serialize a model (e.g. a ``RunParams``) to a JSON string; ``from_json`` reads it back."""
    return json.dumps(unstructure(obj), separators=(",", ":"))


def from_json(cls: type[T], text: str | bytes) -> T:
    """Read a model of type ``cls`` from JSON text. Raises ``ValueError`` naming each bad field."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ValueError(f"not valid JSON: {type(exc).__name__}: {exc}") from exc
    return structure(data, cls)
