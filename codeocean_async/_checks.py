"""Converter rules that check: request models built by their own classes, URL IDs in answers.

Run specs (``RunParams`` and its parts) are built by calling the class, which checks every field
and accepts every form the Python API accepts; an error says what is wrong in plain words
(``SpecError``). An ID in an answer that this SDK would put into a URL path (``Computation.id``)
must pass ``check_id``, or the answer does not fit (a field path names it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import cattrs
from cattrs.errors import AttributeValidationNote
from cattrs.v import format_exception

from ._ids import check_id
from .models import RunParams
from .models.run_params import keywords_from

__all__ = ["SpecError", "check_url_ids", "format_error", "structure_request"]

T = TypeVar("T")


def structure_request(value: Any, cls: type[T]) -> T:
    what = "a run spec" if cls is RunParams else f"a {cls.__name__}"
    if not isinstance(value, Mapping):
        raise SpecError(f"{what} is a JSON object, not {_json_kind(value)}")
    try:
        return cls(**keywords_from(cls, value, what))
    except (TypeError, ValueError) as exc:
        text = str(exc)
        raise SpecError(f"the spec {text}" if text.startswith("has ") else text) from exc


def _json_kind(value: Any) -> str:
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "true/false"}
    if value is None:
        return "null"
    return kinds.get(type(value), "a number" if isinstance(value, (int, float)) else "that")


def check_url_ids(conv: cattrs.Converter, cls: type[Any], names: tuple[str, ...]) -> None:
    """Response IDs that go into URL paths (``Computation.id``) must pass ``check_id``."""
    base = conv.get_structure_hook(cls)

    def structure(value: Any, _: Any) -> Any:
        result = base(value, cls)
        for name in names:
            try:
                check_id(getattr(result, name), name)
            except (TypeError, ValueError) as error:
                exc = _BadID(f"{error} (an ID this SDK would put in a URL path)")
                note = AttributeValidationNote(
                    f"Structuring class {cls.__name__} @ attribute {name}", name, str
                )
                setattr(exc, "__notes__", [note])  # noqa: B010 - cattrs reads the notes
                raise cattrs.ClassValidationError(
                    f"While structuring {cls.__name__}", [exc], cls
                ) from None
        return result

    conv.register_structure_hook(cls, structure)


class _BadID(ValueError):
    """A response ID that fails ``check_id``."""


class SpecError(ValueError):
    """A request model (a run spec) that does not fit, said in plain words."""


def format_error(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, _BadID):
        return str(exc)
    return format_exception(exc, type_)
