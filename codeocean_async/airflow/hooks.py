"""``CodeOceanHook``: a ``codeocean`` connection (host: domain, password: token) as a client."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook, Connection

from .._airflow_support import LoopClients
from .._auth import spellings_of_token
from .._client import AsyncCodeOcean
from .._config import PollPolicy

__all__ = ["CLIENTS", "CodeOceanHook", "client_from_connection"]


def _mask(token: str) -> None:
    """Airflow masks a connection's password in logs, not the Basic header built from it."""
    from airflow.sdk.log import mask_secret

    plain, encoded = spellings_of_token(token)
    for secret in (*plain, *encoded):
        mask_secret(secret)


def client_from_connection(conn: Connection, **kwargs: Any) -> AsyncCodeOcean:
    """An ``AsyncCodeOcean`` for ``conn``: ``host`` is the domain (a ``port`` is appended),
    ``password`` the token; ``extra`` may hold ``agent_id``, ``poll_initial``,
    ``poll_maximum`` (seconds) and ``timeout``."""
    if not conn.host:
        raise ValueError(f"connection {conn.conn_id!r}: host (the Code Ocean domain) is empty")
    if not conn.password:
        raise ValueError(f"connection {conn.conn_id!r}: password (the API token) is empty")
    _mask(conn.password)
    domain = conn.host
    if conn.port and f":{conn.port}" not in domain:
        domain = f"{domain.rstrip('/')}:{conn.port}"
    if conn.schema and "://" not in domain:
        domain = f"{conn.schema}://{domain}"
    extra = conn.extra_dejson or {}
    options: dict[str, Any] = {}
    if extra.get("agent_id"):
        options["agent_id"] = str(extra["agent_id"])
    if "timeout" in extra:
        options["timeout"] = float(extra["timeout"])
    if "poll_initial" in extra or "poll_maximum" in extra:
        initial = float(extra.get("poll_initial", PollPolicy().initial))
        maximum = float(extra.get("poll_maximum", max(initial, PollPolicy().maximum)))
        options["poll"] = PollPolicy(initial=initial, maximum=maximum)
    return AsyncCodeOcean(domain=domain, token=conn.password, **{**options, **kwargs})


async def _client_for(conn_id: str) -> AsyncCodeOcean:
    return client_from_connection(await BaseHook.aget_connection(conn_id))


#: The triggerer's clients: one per connection per running event loop.
CLIENTS = LoopClients(_client_for)


class CodeOceanHook(BaseHook):
    """A ``codeocean`` connection as an ``AsyncCodeOcean``::

    async with CodeOceanHook("codeocean_default").get_client() as client:
        capsule = await client.capsules.get(capsule_id)
    """

    conn_name_attr = "conn_id"
    default_conn_name = "codeocean_default"
    conn_type = "codeocean"
    hook_name = "Code Ocean"

    def __init__(self, conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id

    def get_client(self, **kwargs: Any) -> AsyncCodeOcean:
        """A new client for the connection (close it: ``async with`` or ``aclose()``);
        ``kwargs`` go to ``AsyncCodeOcean`` (``poll=``, ``retry=``...)."""
        return client_from_connection(self.get_connection(self.conn_id), **kwargs)

    async def aget_client(self, **kwargs: Any) -> AsyncCodeOcean:
        """``get_client`` for async code (the triggerer): reads the connection without blocking."""
        return client_from_connection(await self.aget_connection(self.conn_id), **kwargs)

    def get_conn(self) -> AsyncCodeOcean:
        """Airflow's generic name for ``get_client``."""
        return self.get_client()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The connection form: the domain in ``host``, the token in ``password``."""
        return {
            "hidden_fields": ["schema", "login", "port"],
            "relabeling": {"host": "Domain", "password": "API token"},
            "placeholders": {
                "host": "acme.codeocean.com",
                "password": "cop_...",
                "extra": '{"agent_id": "airflow", "poll_initial": 5, "poll_maximum": 300}',
            },
        }
