"""Checks every ID before it goes into a request, so a bad one can never change the URL path."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_ID_LENGTH", "check_id"]

_FORBIDDEN = ("/", "?", "#", "\\", "%")
#: Code Ocean's IDs are UUIDs (36 characters); anything far longer is not an ID.
MAX_ID_LENGTH = 256
#: An ID made only of these passes at once (what every real ID is); any other is looked at
#: character by character, to name the one refused.
_PLAIN = re.compile(r"[A-Za-z0-9_\-.:@~+=!$&'()*,;]+")


def check_id(value: Any, name: str) -> str:
    """Return ``value`` if it is a usable ID; else raise ``ValueError`` (``TypeError``) naming it.

    Refused: non-strings, empty strings, strings longer than ``MAX_ID_LENGTH``, ``.``/``..``,
    whitespace or control characters anywhere, and the characters ``/ ? # \\ %`` that would
    change or escape the URL path.
    """
    if (
        type(value) is str
        and len(value) <= MAX_ID_LENGTH
        and _PLAIN.fullmatch(value)
        and value not in (".", "..")
    ):
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(
            f"{name} is too long to be an ID ({len(value)} characters; at most {MAX_ID_LENGTH})"
        )
    if value in (".", ".."):
        raise ValueError(f"{name} must not be {value!r}")
    for ch in value:
        if ch in _FORBIDDEN or ch.isspace() or not ch.isprintable():
            raise ValueError(f"{name} contains a character not allowed in an ID: {ch!r}")
    return value
