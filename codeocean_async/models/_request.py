"""The mark of a request model: a body this SDK sends, checked when built, sent without its
unset fields.

``RunParams`` and its parts are request models of their own making (``models.run_params``);
every other body (a search, a data asset to create, permissions) subclasses ``RequestModel``:
an attrs class whose fields check themselves, so a wrong type fails when the model is built,
before anything is sent, and whose unset fields (``None``, or their default) are left out of
the JSON (the converter's rule).
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["RequestModel", "as_tuple", "is_request_model", "optional", "optional_list"]


class RequestModel:
    """Base of a request body model (attrs, frozen): unset fields are not sent."""

    __slots__ = ()


def is_request_model(t: Any) -> bool:
    """Whether ``t`` is a ``RequestModel`` class (the converter's predicate)."""
    return isinstance(t, type) and issubclass(t, RequestModel)


def optional(kind: type[Any] | tuple[type[Any], ...]) -> Any:
    """An attrs validator: ``None`` or an instance of ``kind``."""
    return attrs.validators.optional(attrs.validators.instance_of(kind))


def optional_list(kind: type[Any] | tuple[type[Any], ...]) -> Any:
    """An attrs validator: ``None`` or a list (or tuple) of instances of ``kind``."""
    return attrs.validators.optional(
        attrs.validators.deep_iterable(
            attrs.validators.instance_of(kind), attrs.validators.instance_of((list, tuple))
        )
    )


def as_tuple(value: Any) -> Any:
    """An attrs converter: a list given for a tuple field becomes a tuple (``None`` stays)."""
    return tuple(value) if isinstance(value, list) else value
