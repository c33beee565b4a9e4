"""The exception tree (a non-2xx answer becomes one of them in ``_status``).

```
CodeOceanError
├── APIConnectionError          transport failure; __cause__ is the httpx error
│   └── APITimeoutError
├── APIStatusError              status_code, message, body, request method and URL
│   ├── BadRequestError 400 · AuthenticationError 401 · PermissionDeniedError 403
│   │   ├── ServerVersionError      (400) the deployment is older than the operation needs
│   │   └── ReleaseValidationError  (403) a release refused; ``issues`` names what is unmet
│   ├── NotFoundError 404 · ConflictError 409 · RateLimitError 429 (retry_after)
│   └── ServerError 5xx
├── LaunchUncertainError        a run (or capture) request may or may not have acted
├── ResponseValidationError     the body did not fit the model
├── WaitError
│   ├── WaitTimeoutError        also a TimeoutError; carries the last Computation seen
│   ├── ComputationFailedError  carries the final Computation and its outcome
│   ├── ReleaseFailedError      a release job failed or was canceled; carries the job
│   └── DataAssetFailedError    carries the failed DataAsset (its failure_reason)
├── ClientClosedError           the client was closed (also a RuntimeError)
└── ConfigurationError          missing or invalid configuration (also a ValueError)
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from ._retry_after import parse_retry_after

if TYPE_CHECKING:
    from .models.computations import Computation, Outcome
    from .models.data_assets import DataAsset
    from .models.releases import CapsuleReleaseJob
    from .models.releases import CapsuleReleaseValidationIssues as ReleaseIssues

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "CodeOceanError",
    "ComputationFailedError",
    "ConfigurationError",
    "ConflictError",
    "DataAssetFailedError",
    "LaunchUncertainError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ReleaseFailedError",
    "ReleaseValidationError",
    "ResponseValidationError",
    "ServerError",
    "ServerVersionError",
    "WaitError",
    "WaitTimeoutError",
    "parse_retry_after",
]


class CodeOceanError(Exception):
    """The root of every error this package raises on purpose."""


class ClientClosedError(CodeOceanError, RuntimeError):
    """The client was closed with ``aclose()`` (or its ``async with`` block ended)."""


class ConfigurationError(CodeOceanError, ValueError):
    """Configuration is missing or invalid, e.g. an unset environment variable."""


class APIConnectionError(CodeOceanError):
    """The request did not get an answer: connection refused, dropped, TLS failure, ...

    ``__cause__`` is the underlying ``httpx`` exception. ``maybe_sent`` tells whether the
    request may have reached the server (judged by what happened on the wire): when it is
    ``False``, the server cannot have acted on it. ``retryable`` is ``False`` when trying again
    cannot help (the host name does not resolve): such an error is raised at once.
    """

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request,
        maybe_sent: bool = True,
        retryable: bool = True,
    ) -> None:
        super().__init__(message)
        self.request = request
        self.maybe_sent = maybe_sent
        self.retryable = retryable


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write or pool)."""


class APIStatusError(CodeOceanError):
    """The server answered with a non-2xx status.

    Attributes: ``status_code``, ``message`` (the body's ``message`` when JSON, else a short text
    excerpt), ``body`` (parsed JSON, or ``None``), ``method``, ``url``, ``response``.
    """

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        self.message = message
        self.response = response
        self.body = body
        self.status_code = response.status_code
        self.method = response.request.method
        self.url = str(response.request.url)
        super().__init__(f"{self.status_code} on {self.method} {self.url}: {message}")


class BadRequestError(APIStatusError):
    """400: a missing, misspelled or malformed parameter, or an unmet Min-Server-Version."""


class ServerVersionError(BadRequestError):
    """400 for version reasons: the deployment is older than ``operation`` needs.

    ``operation``: this SDK's name for it (``"capsules.release"``); ``min_version``: the
    ``Min-Server-Version`` it sent (the lowest server version that serves the operation).
    """

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        body: Any,
        operation: str,
        min_version: str | None,
    ) -> None:
        super().__init__(message, response=response, body=body)
        self.operation = operation
        self.min_version = min_version


class AuthenticationError(APIStatusError):
    """401: no valid token."""


class PermissionDeniedError(APIStatusError):
    """403: the token lacks a scope, or the action is not allowed on this resource."""


class ReleaseValidationError(PermissionDeniedError):
    """403 to a release for unmet requirements: ``issues`` (``CapsuleReleaseValidationIssues``)
    holds the flags the server sent; the message names each requirement in plain words."""

    def __init__(
        self, message: str, *, response: httpx.Response, body: Any, issues: ReleaseIssues
    ) -> None:
        super().__init__(message, response=response, body=body)
        self.issues = issues


class NotFoundError(APIStatusError):
    """404: no such capsule, pipeline, computation or data asset (or no access to it)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's current state."""


class RateLimitError(APIStatusError):
    """429: the Computation API is overloaded; ``retry_after`` is the server's hint in seconds."""

    def __init__(self, message: str, *, response: httpx.Response, body: Any) -> None:
        super().__init__(message, response=response, body=body)
        self.retry_after = parse_retry_after(response.headers.get("retry-after"))


class ServerError(APIStatusError):
    """5xx: the server (or a proxy in front of it) failed."""


class LaunchUncertainError(CodeOceanError):
    """A run request may or may not have started a computation (a capture: made a data asset).

    Raised when the request may have reached the server but no usable answer came back (a
    dropped connection, a timeout, a 5xx), so resending it could start a duplicate. ``request``
    is the request; ``sent_at`` the epoch time it was sent; ``__cause__`` what went wrong.
    After a reconciliation that found several matches (runs, data assets), ``candidates``.
    """

    def __init__(
        self,
        message: str,
        *,
        request: httpx.Request,
        sent_at: float,
        candidates: tuple[Computation | DataAsset, ...] = (),
    ) -> None:
        super().__init__(message)
        self.request = request
        self.sent_at = sent_at
        self.candidates = candidates


class ResponseValidationError(CodeOceanError):
    """The response body did not fit the model; ``errors`` lists each failing field path."""

    def __init__(self, message: str, *, errors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.errors = errors


class WaitError(CodeOceanError):
    """A wait ended without the result the caller asked for.

    ``last``: the last state seen of what was waited on (a ``Computation``, a ``DataAsset``, a
    release job), ``None`` if none; for a computation, ``computation`` is the same.
    """

    def __init__(
        self, message: str, *, computation: Computation | None = None, last: Any = None
    ) -> None:
        super().__init__(message)
        self.computation = computation
        self.last = computation if last is None else last


class WaitTimeoutError(WaitError, TimeoutError):
    """The wait's deadline passed; ``computation`` is the last state seen (``None`` if none).

    A wait on many (``wait_all``, ``as_completed``) sets ``computations``: the last state seen of
    every computation waited on, in input order, finished ones included.
    """

    def __init__(
        self,
        message: str,
        *,
        computation: Computation | None = None,
        computations: tuple[Computation | None, ...] = (),
        last: Any = None,
    ) -> None:
        super().__init__(message, computation=computation, last=last)
        self.computations = computations


class ComputationFailedError(WaitError):
    """The computation finished with an outcome other than success (``computation``, ``outcome``;
    for a wait on many, the first such in input order, and all of them in ``failed``)."""

    computation: Computation

    def __init__(
        self,
        message: str,
        *,
        computation: Computation,
        outcome: Outcome,
        failed: tuple[Computation, ...] = (),
    ) -> None:
        super().__init__(message, computation=computation)
        self.outcome = outcome
        #: For a wait on many: every computation that did not succeed, in input order.
        self.failed = failed or (computation,)


class ReleaseFailedError(WaitError):
    """A release job ended ``failed`` or ``canceled``: ``job`` (also ``last``), its ``error``."""

    def __init__(self, message: str, *, job: CapsuleReleaseJob) -> None:
        super().__init__(message, last=job)
        self.job = job


class DataAssetFailedError(WaitError):
    """The data asset ended ``failed``: ``data_asset`` (also ``last``), its ``failure_reason``."""

    def __init__(self, message: str, *, data_asset: DataAsset) -> None:
        super().__init__(message, last=data_asset)
        self.data_asset = data_asset
