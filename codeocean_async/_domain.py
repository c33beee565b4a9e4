"""A deployment's API base URL from what users type: checked, and never http:// off loopback."""

from __future__ import annotations

import ipaddress

import httpx

from ._errors import ConfigurationError

__all__ = ["normalize_domain"]


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_domain(domain: str, *, allow_insecure_http: bool = False) -> str:
    """The API base URL (ending in ``/api/v1/``) for a deployment's domain.

    ``acme.codeocean.com``, ``https://acme.codeocean.com/`` and ``https://acme.codeocean.com``
    all give ``https://acme.codeocean.com/api/v1/``; so does a pasted ``.../api/v1``. Any other
    path (``.../api``) is refused: the API lives at ``/api/v1`` of the deployment's address.
    Plain ``http://`` is refused unless the host is loopback or ``allow_insecure_http`` is set.
    """
    if not isinstance(domain, str) or not domain.strip():
        raise ConfigurationError("domain must be a non-empty string such as 'acme.codeocean.com'")
    text = domain.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise ConfigurationError(f"domain {domain!r} is not a valid URL: {exc}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ConfigurationError(f"domain {domain!r} must be an http(s) host name")
    if url.userinfo:
        raise ConfigurationError("domain must not carry credentials: pass token= instead")
    if url.query or url.fragment:
        raise ConfigurationError(f"domain {domain!r} must not have a query or fragment")
    if url.scheme == "http" and not allow_insecure_http and not _is_loopback(url.host):
        raise ConfigurationError(
            f"refusing plain http:// for {url.host}: the token would cross the network "
            "unencrypted. Use https://, or pass allow_insecure_http=True if you must."
        )
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    origin = f"{url.scheme}://{host}{port}"
    if url.path.rstrip("/") not in ("", "/api/v1"):
        raise ConfigurationError(
            f"domain {domain!r} has a path ({url.path!r}): pass the deployment's address alone, "
            f"such as {origin!r} (the client adds /api/v1)"
        )
    return f"{origin}/api/v1/"
