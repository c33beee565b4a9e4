"""Every spelling of the client's token, and the one place text and bodies are cleared of it.

A server or proxy that echoes a request back may spell the token raw, JSON-escaped (``\\u00fc``,
``\\"``, ``\\/``), percent-encoded, as an HTML entity, or send the ``Authorization`` header's
base64 back. ``Secrets`` knows them all, once per client: ``text()`` clears a string of any of
them (each character of a secret may be spelled any of its ways), ``value()`` clears every string
of a decoded JSON body, keys included.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["REDACTED", "Secrets"]

REDACTED = "[redacted]"
_MIN_SECRET = 4  # shorter strings are too common to be told from the token
_HTML_NAMED = {'"': "&quot;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;"}


def _char_spellings(char: str) -> str:
    """A regex matching ``char`` in any of the ways JSON, a URL or HTML may write it."""
    code = ord(char)
    forms = [re.escape(char)]
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        high = 0xD800 + ((code - 0x10000) >> 10)
        low = 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.append(rf"\\u{high:04x}\\u{low:04x}")
    else:
        forms.append(rf"\\u{code:04x}")
    if char in '"\\/':
        forms.append(re.escape("\\" + char))
    forms.append("".join(f"%{byte:02x}" for byte in char.encode()))
    forms.append(rf"&#0*{code};|&#x0*{code:x};")
    if char in _HTML_NAMED:
        forms.append(re.escape(_HTML_NAMED[char]))
    return "(?:" + "|".join(forms) + ")"


def _base64_forms(secret: str) -> Iterable[str]:
    raw = secret.encode()
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        yield text
        yield text.rstrip("=")


class Secrets:
    """The spellings of one client's credentials, compiled once."""

    def __init__(self, secrets: Iterable[str]) -> None:
        unique = sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True)
        self._pattern: re.Pattern[str] | None = None
        if unique:
            alternatives = ("".join(_char_spellings(c) for c in s) for s in unique)
            self._pattern = re.compile("|".join(alternatives), re.IGNORECASE)

    @classmethod
    def of_token(cls, token: str) -> Secrets:
        """The token, raw and as the base64 of ``token:`` (the Basic header) and of itself."""
        forms = [token, *_base64_forms(f"{token}:"), *_base64_forms(token)]
        return cls(forms)

    @classmethod
    def of_headers(cls, headers: Mapping[str, str]) -> Secrets:
        """The secrets of an ``Authorization`` header (the token inside a Basic one, too)."""
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not header:
            return cls(())
        scheme, _, credentials = header.partition(" ")
        secrets = [header, credentials]
        if scheme.lower() == "basic" and credentials:
            try:
                decoded = base64.b64decode(credentials, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            user, _, password = decoded.partition(":")
            for part in (user, password):
                if part:
                    secrets += [part, *_base64_forms(f"{part}:"), *_base64_forms(part)]
        return cls(secrets)

    def text(self, text: str) -> str:
        """``text`` with every spelling of every secret replaced by ``[redacted]``."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def value(self, value: Any) -> Any:
        """A decoded JSON value with every string in it (keys too) cleared by ``text()``."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        return value
