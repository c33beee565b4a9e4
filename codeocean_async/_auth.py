"""The token's encoding: the ``Authorization`` header it makes, and every spelling to redact.

The one module that base64-encodes (or decodes) credentials. A token goes out as HTTP Basic
``token:``; a server or proxy may echo back the header, the token, or the base64 of either, so
``spellings_of_token`` and ``spellings_of_header`` return the plain strings and the base64
strings that ``_redact.Secrets`` must clear.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable

__all__ = ["Spellings", "basic_authorization", "spellings_of_header", "spellings_of_token"]

#: The plain secrets, and the base64 encodings (standard alphabet, padded) of the secrets.
Spellings = tuple[list[str], set[str]]


def basic_authorization(token: str) -> str:
    """The ``Authorization`` header value for ``token`` (HTTP Basic, token as user, no password)."""
    return "Basic " + _b64(f"{token}:")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


def _encoded(texts: Iterable[str]) -> set[str]:
    return {_b64(text) for text in texts if text}


def spellings_of_token(token: str) -> Spellings:
    """The token, raw and as the base64 of ``token:`` (the Basic header) and of itself."""
    return [token], _encoded([f"{token}:", token])


def spellings_of_header(header: str | None) -> Spellings:
    """The secrets of an ``Authorization`` header value (the token inside a Basic one, too)."""
    if not header:
        return [], set()
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if decoded:
            user, _, password = decoded.partition(":")
            return [user, password], _encoded([decoded, user, password])
    return [credentials or header], set()
