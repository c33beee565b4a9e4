"""The deployment's custom metadata schema: the fields an admin defined for data assets."""

from __future__ import annotations

from typing import Any

import attrs

from ._enums import OpenEnum

__all__ = [
    "CustomMetadata",
    "CustomMetadataField",
    "CustomMetadataFieldRange",
    "CustomMetadataFieldType",
]


class CustomMetadataFieldType(OpenEnum):
    """A custom field's type (dates are epoch seconds)."""

    STRING = "string"
    NUMBER = "number"
    DATE = "date"


@attrs.frozen(kw_only=True)
class CustomMetadataFieldRange:
    """The bounds of a number field."""

    min: float | None = None
    max: float | None = None


@attrs.frozen(kw_only=True)
class CustomMetadataField:
    """One custom field: its name, type, and what values it takes."""

    name: str
    type: CustomMetadataFieldType
    range: CustomMetadataFieldRange | None = None
    #: Strings for a string field, numbers for a number field.
    allowed_values: tuple[Any, ...] | None = None
    multiple: bool | None = None
    units: str | None = None
    category: str | None = None
    required: bool | None = None


@attrs.frozen(kw_only=True)
class CustomMetadata:
    """``GET /custom_metadata``: the deployment's fields and their categories."""

    fields: tuple[CustomMetadataField, ...] | None = None
    categories: tuple[str, ...] | None = None
