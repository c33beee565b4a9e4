"""The opaque page tokens every fake search hands out (``next_token``), and reading them back."""

from __future__ import annotations

import base64

__all__ = ["page_token", "read_token"]


def page_token(kind: str, offset: int) -> str:
    """An opaque ``next_token`` for the page of ``kind``'s search starting at ``offset``."""
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode().rstrip("=")


def read_token(kind: str, token: str) -> int | None:
    """The offset a ``page_token`` of ``kind`` stands for, or ``None`` for one it never gave."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    found, _, offset = text.partition(":")
    return int(offset) if found == kind and offset.isdigit() else None
