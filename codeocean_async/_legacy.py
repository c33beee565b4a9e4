"""How the answers of older deployments (and the docs' own shapes) are read into today's models.

Pre-3.1 capsule statuses and keys (``keywords``, ``published_capsule``), ``versions`` as the
docs type it (a dictionary) beside the list the SDK reads, and an App Panel process's
categories and parameters as one object (the official SDK's shape) beside the docs' lists.
Registered on the converter by ``_converter.configure_converter``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cattrs
from cattrs.gen import make_dict_structure_fn

from .models.app_panel import AppPanelProcess
from .models.capsules import Capsule, CapsuleStatus, Version

__all__ = ["register_legacy"]

# Pre-3.1 capsule statuses (and the seed page's underscore typo), read into the current two.
_LEGACY_STATUS = {
    "non-published": CapsuleStatus.NON_RELEASE,
    "non_published": CapsuleStatus.NON_RELEASE,
    "submitted": CapsuleStatus.NON_RELEASE,
    "publishing": CapsuleStatus.NON_RELEASE,
    "published": CapsuleStatus.RELEASE,
    "verified": CapsuleStatus.RELEASE,
}
_LEGACY_CAPSULE_KEYS = {"keywords": "tags", "published_capsule": "release_capsule"}


def register_legacy(conv: cattrs.Converter) -> None:
    """Register the rules for older shapes on ``conv`` (after its simple-type hooks)."""
    version_hook = conv.get_structure_hook(Version)

    def structure_versions(value: Any, _: Any) -> tuple[Version, ...]:
        # The SDK reads a list of Version; the docs call the field a dictionary: accept both.
        if isinstance(value, Mapping):
            items = [value] if "major_version" in value else list(value.values())
        elif isinstance(value, list):
            items = value
        else:
            raise TypeError(f"expected a list of versions, got {type(value).__name__}")
        return tuple(version_hook(v, Version) for v in items)

    conv.register_structure_hook_func(lambda t: t == tuple[Version, ...], structure_versions)

    base_capsule = make_dict_structure_fn(Capsule, conv)

    def structure_capsule(value: Any, _: Any) -> Capsule:
        if not isinstance(value, Mapping):
            raise TypeError(f"expected an object, got {type(value).__name__}")
        data = dict(value)
        for old, new in _LEGACY_CAPSULE_KEYS.items():
            if old in data and data.get(new) is None:
                data[new] = data.pop(old)
        status = data.get("status")
        if isinstance(status, str) and status in _LEGACY_STATUS:
            data["status"] = _LEGACY_STATUS[status]
        return base_capsule(data, Capsule)

    conv.register_structure_hook(Capsule, structure_capsule)

    base_process = make_dict_structure_fn(AppPanelProcess, conv)

    def structure_process(value: Any, _: Any) -> AppPanelProcess:
        # The docs give a process lists of categories and parameters; the official SDK reads
        # one object of each: a single object is read as a list of one.
        if isinstance(value, Mapping):
            value = {
                k: [v] if k in ("categories", "parameters") and isinstance(v, Mapping) else v
                for k, v in value.items()
            }
        return base_process(value, AppPanelProcess)

    conv.register_structure_hook(AppPanelProcess, structure_process)
