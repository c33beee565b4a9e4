"""AsyncCodeOcean: configuration, lifecycle and resource attributes. Wiring only."""

from __future__ import annotations

import os
import platform
import ssl
from types import TracebackType
from typing import Any

import attrs
import httpx

from ._auth import basic_authorization
from ._config import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEOUT,
    MIN_SERVER_VERSION,
    ClientOptions,
    OnUncertain,
    PollPolicy,
    RetryPolicy,
    check_timeout,
)
from ._domain import normalize_domain
from ._errors import ClientClosedError, ConfigurationError
from ._http import HTTPPipeline
from ._launch import LaunchLedger
from ._transport import AutoTransport, Engine
from ._version import __version__
from .resources import Capsules, Computations, CustomMetadataRoutes, DataAssets, Pipelines
from .resources._base import Bound

__all__ = ["AsyncCodeOcean", "normalize_domain"]

ENV_DOMAIN = "CODEOCEAN_DOMAIN"
ENV_TOKEN = "CODEOCEAN_API_TOKEN"
ENV_AGENT_ID = "CODEOCEAN_AGENT_ID"

USER_AGENT = (
    f"codeocean-async/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
)


def _env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def _check_token(token: object) -> str:
    """``token`` when it can be sent intact as a Basic user name; never echoes any of it."""
    if not isinstance(token, str) or not token.strip():
        raise ConfigurationError("token must be a non-empty string")
    problem = None
    if ":" in token:
        problem = "a ':'"
    elif any(ch.isspace() for ch in token):
        problem = "whitespace"
    elif not token.isprintable():
        problem = "a control or other non-printable character"
    if problem is not None:
        raise ConfigurationError(
            f"the token contains {problem}, so it cannot be sent as the HTTP Basic user name: "
            "check the value (copy the access token again, without what surrounds it)"
        )
    return token


class AsyncCodeOcean:
    """An async client for one Code Ocean deployment.

    Example::

        async with AsyncCodeOcean(domain="acme.codeocean.com", token="cop_...") as client:
            capsule = await client.capsules.get(capsule_id)
            run = await client.computations.run(capsule_id=capsule_id)
            done = await client.computations.wait_for_completion(run, timeout=3600)

    Parameters (all keyword-only):
        domain: the deployment, e.g. ``"acme.codeocean.com"`` or ``"https://acme.codeocean.com"``.
        token: an access token (``cop_...``); sent as the Basic-auth user name, never logged.
            One holding ``:``, whitespace or a control character is refused (not echoed).
        agent_id: sent as the ``Agent-Id`` header when given.
        timeout: seconds > 0, or an ``httpx.Timeout`` whose four parts are; never unbounded
            (``None``, 0, negatives, NaN and inf are refused).
        poll: the default ``PollPolicy`` for waits.
        retry: the ``RetryPolicy`` for every request (``RetryPolicy.none()`` never retries).
        on_uncertain: ``"raise"`` (``LaunchUncertainError``) or ``"reconcile"``: what ``run``
            does when it cannot tell whether a computation started.
        http_client: an ``httpx.AsyncClient`` to share; the caller keeps owning (and closing) it.
        transport: an httpx transport for the client this one creates (tests, custom stacks).
        verify: TLS verification for the client this one creates; on unless you pass otherwise.
        allow_insecure_http: permit ``http://`` to a host that is not loopback.
        engine: ``"auto"`` (aiohttp on asyncio when the ``aiohttp`` extra is installed, else
            httpx's own pool), ``"httpx"`` or ``"aiohttp"``; see the README, "Performance".

    One client can be shared by many tasks. ``aclose()`` (or leaving ``async with``) closes it;
    a closed client raises ``ClientClosedError``. It closes only an httpx client it created.
    """

    def __init__(
        self,
        *,
        domain: str,
        token: str,
        agent_id: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        on_uncertain: OnUncertain = "raise",
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | str | bool = True,
        allow_insecure_http: bool = False,
        engine: Engine = "auto",
    ) -> None:
        token = _check_token(token)
        timeout = check_timeout(timeout)
        if http_client is not None and (
            transport is not None or verify is not True or engine != "auto"
        ):
            raise ConfigurationError(
                "pass transport=, verify= or engine= only when the client creates its own httpx "
                "client; configure the http_client you pass instead"
            )
        if transport is not None and engine != "auto":
            raise ConfigurationError("pass either transport= or engine=, not both")
        self._base_url = normalize_domain(domain, allow_insecure_http=allow_insecure_http)
        retry = retry or RetryPolicy()
        options = ClientOptions(
            domain=self._base_url[: -len("/api/v1/")],
            agent_id=agent_id,
            timeout=timeout,
            poll=poll or PollPolicy(),
            retry=retry,
            on_uncertain=on_uncertain,
        )
        self._owns_http_client = http_client is None
        own_transport: httpx.AsyncBaseTransport | None = None
        if http_client is None:
            own_transport = transport or AutoTransport(
                engine=engine, verify=verify, limits=DEFAULT_LIMITS
            )
            http_client = httpx.AsyncClient(
                transport=own_transport, timeout=timeout, follow_redirects=False
            )
        self._http_client = http_client
        headers = {
            "authorization": basic_authorization(token),
            "accept": "application/json",
            "accept-encoding": "gzip, deflate",
            "user-agent": USER_AGENT,
            "min-server-version": MIN_SERVER_VERSION,
        }
        if agent_id:
            headers["agent-id"] = agent_id
        self._http = HTTPPipeline(
            client=http_client,
            base_url=self._base_url,
            headers=headers,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            transport=own_transport,
        )
        self._bind(Bound(http=self._http, options=options, ledger=LaunchLedger()))

    def _bind(self, bound: Bound) -> None:
        """Take ``bound``'s options and shared parts, and give the resources the same."""
        self._bound = bound
        self._http = bound.http
        self.capsules = Capsules(bound)
        self.pipelines = Pipelines(bound)
        self.computations = Computations(bound)
        self.data_assets = DataAssets(bound)
        self.custom_metadata = CustomMetadataRoutes(bound)

    # The options are read-only: a client's settings change only through ``with_options``.

    @property
    def domain(self) -> str:
        """The deployment's address, e.g. ``https://acme.codeocean.com``."""
        return self._bound.options.domain

    @property
    def agent_id(self) -> str | None:
        """The ``Agent-Id`` header's value, when one is sent."""
        return self._bound.options.agent_id

    @property
    def timeout(self) -> httpx.Timeout:
        """The network timeouts of every request (never unbounded)."""
        return self._bound.options.timeout

    @property
    def poll(self) -> PollPolicy:
        """The default ``PollPolicy`` of waits."""
        return self._bound.options.poll

    @property
    def retry(self) -> RetryPolicy:
        """The retry policy of this client's requests."""
        return self._bound.options.retry

    @property
    def on_uncertain(self) -> OnUncertain:
        """What ``run`` does by default when it cannot tell whether a computation started."""
        return self._bound.options.on_uncertain

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        retry: RetryPolicy | None = None,
        poll: PollPolicy | None = None,
        on_uncertain: OnUncertain | None = None,
    ) -> AsyncCodeOcean:
        """A client with other settings over the same connection pool, e.g. for one call::

            await client.with_options(retry=RetryPolicy.none()).capsules.get(capsule_id)

        The copy shares the pool, the launch gate, what it learns of the server's clock, the
        ledger of the runs started (so ``wait_all`` knows a run the original started, and the
        other way round) and the poll loop of its waits; closing it closes nothing (close the
        original).
        """
        options = attrs.evolve(
            self._bound.options,
            timeout=self.timeout if timeout is None else timeout,
            retry=self.retry if retry is None else retry,
            poll=poll or self.poll,
            on_uncertain=self.on_uncertain if on_uncertain is None else on_uncertain,
        )
        http = self._http.copy(timeout=options.timeout, retry=options.retry)
        copy = object.__new__(AsyncCodeOcean)
        copy._base_url, copy._http_client = self._base_url, self._http_client
        copy._owns_http_client = False
        copy._bind(attrs.evolve(self._bound, http=http, options=options))
        return copy

    @classmethod
    def from_env(cls, *, domain: str | None = None, **kwargs: Any) -> AsyncCodeOcean:
        """A client configured from ``CODEOCEAN_DOMAIN`` and ``CODEOCEAN_API_TOKEN``.

        ``CODEOCEAN_AGENT_ID`` is read too when set. A ``domain`` given here replaces
        ``CODEOCEAN_DOMAIN``; other keyword arguments pass through to the constructor.
        Raises ``ConfigurationError`` naming the variable that is missing.
        """
        if domain is None:
            domain = _env(ENV_DOMAIN)
        kwargs.setdefault("agent_id", os.environ.get(ENV_AGENT_ID) or None)
        return cls(domain=domain, token=_env(ENV_TOKEN), **kwargs)

    @property
    def closed(self) -> bool:
        """Whether ``aclose()`` was called."""
        return self._http.closed

    async def aclose(self) -> None:
        """Close the client (and the httpx client, if this one created it). Safe to call twice."""
        if self._http.closed:
            return
        self._http.close()
        if self._owns_http_client:
            await self._http_client.aclose()

    async def __aenter__(self) -> AsyncCodeOcean:
        if self._http.closed:
            raise ClientClosedError("this AsyncCodeOcean client is closed; create a new one")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<AsyncCodeOcean {self.domain}{state}>"
