"""Every spelling of the client's token, and the one place text and bodies are cleared of it.

A server or proxy that echoes a request back may spell the token raw, JSON-escaped (``\\u00fc``,
``\\"``, ``\\/``), percent-encoded, as an HTML entity, or send the ``Authorization`` header's
base64 back. ``Secrets`` knows them all, once per client: ``text()`` clears a string of any of
them (each character of a secret may be spelled any of its ways), ``value()`` clears every string
of a decoded JSON body, keys included.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ._auth import spellings_of_header, spellings_of_token

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


#: base64 and its URL-safe alphabet differ in two characters; padding may be dropped.
_BASE64_TWINS = {"+": "-", "/": "_"}
_PADDING = "(?:" + _char_spellings("=") + "){0,2}"


def _pattern_of(secret: str, *, encoded: bool) -> str:
    """The regex of every spelling of ``secret`` (of either base64 alphabet when ``encoded``)."""
    parts = []
    for char in secret.rstrip("=") if encoded else secret:
        spelled = _char_spellings(char)
        if encoded and char in _BASE64_TWINS:
            spelled = f"(?:{spelled}|{_char_spellings(_BASE64_TWINS[char])})"
        parts.append(spelled)
    return "".join(parts) + (_PADDING if encoded else "")


class Secrets:
    """The spellings of one client's credentials: ``plain`` strings and ``encoded`` base64
    strings (matched in the standard or URL-safe alphabet, padded or not); ``_auth`` knows
    which strings a token makes."""

    def __init__(self, plain: Iterable[str] = (), *, encoded: Iterable[str] = ()) -> None:
        encoded = set(encoded)
        self._secrets = sorted(
            {(s, False) for s in plain if len(s) >= _MIN_SECRET}
            | {(s, True) for s in encoded if len(s.rstrip("=")) >= _MIN_SECRET},
            key=lambda item: len(item[0].rstrip("=") if item[1] else item[0]),  # longest first
            reverse=True,
        )
        self._compiled: re.Pattern[str] | None = None

    @property
    def _pattern(self) -> re.Pattern[str]:
        """One regex for every spelling of every secret, compiled on first use (most clients
        never see an error)."""
        if self._compiled is None:
            alternatives = (_pattern_of(s, encoded=encoded) for s, encoded in self._secrets)
            self._compiled = re.compile("|".join(alternatives), re.IGNORECASE)
        return self._compiled

    @classmethod
    def of_token(cls, token: str) -> Secrets:
        """Every spelling of ``token``, raw and as its Basic header sends it (``_auth``)."""
        plain, encoded = spellings_of_token(token)
        return cls(plain, encoded=encoded)

    @classmethod
    def of_headers(cls, headers: Mapping[str, str]) -> Secrets:
        """The secrets of an ``Authorization`` header (the token inside a Basic one, too)."""
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        plain, encoded = spellings_of_header(header)
        return cls(plain, encoded=encoded)

    def text(self, text: str) -> str:
        """``text`` with every spelling of every secret replaced by ``[redacted]``."""
        if not text or not self._secrets:
            return text
        return self._pattern.sub(REDACTED, text)

    def chain(self, exc: BaseException) -> None:
        """Clear ``exc`` and every exception behind it (causes, contexts) of the secrets: their
        messages and ``args``, so neither ``str``, ``repr`` nor a logged traceback shows one.
        The errors of httpx, httpcore and the engines quote what the server sent."""
        if not self._secrets:
            return
        seen: set[int] = set()
        current: BaseException | None = exc
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            args = tuple(self.text(a) if isinstance(a, str) else a for a in current.args)
            if args != current.args:
                current.args = args
            message = getattr(current, "message", None)  # aiohttp's errors keep one apart
            if isinstance(message, str) and self.text(message) != message:
                with contextlib.suppress(AttributeError, TypeError):
                    current.message = self.text(message)  # type: ignore[attr-defined]
            current = current.__cause__ or current.__context__

    def value(self, value: Any) -> Any:
        """A decoded JSON value with every string in it (keys too) cleared by ``text()``."""
        if not self._secrets:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        return value
