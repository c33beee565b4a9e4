"""AsyncCodeOcean: configuration, the headers on every request, lifecycle and ownership."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest

import codeocean_async as co
from codeocean_async._client import normalize_domain
from codeocean_async._config import DEFAULT_TIMEOUT, MIN_SERVER_VERSION

from .conftest import mock_client

TOKEN = "cop_test_token_0123456789"


def _capture(requests: list[httpx.Request]) -> co.AsyncCodeOcean:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"id": "c", "name": "n", "created": 1})

    return mock_client(handler)


@pytest.mark.parametrize(
    ("domain", "base"),
    [
        ("acme.codeocean.com", "https://acme.codeocean.com/api/v1/"),
        ("https://acme.codeocean.com/", "https://acme.codeocean.com/api/v1/"),
        ("https://acme.codeocean.com", "https://acme.codeocean.com/api/v1/"),
        ("  https://acme.codeocean.com/api/v1/ ", "https://acme.codeocean.com/api/v1/"),
        ("https://acme.codeocean.com:8443/", "https://acme.codeocean.com:8443/api/v1/"),
        ("http://localhost:8000", "http://localhost:8000/api/v1/"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/api/v1/"),
        ("http://[::1]:8000/", "http://[::1]:8000/api/v1/"),
    ],
)
def test_domain_is_normalised(domain: str, base: str) -> None:
    assert normalize_domain(domain) == base


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("", "non-empty"),
        ("http://acme.codeocean.com", "refusing plain http"),
        ("http://10.0.0.5", "refusing plain http"),
        ("ftp://acme.codeocean.com", "http"),
        ("https://user:pw@acme.codeocean.com", "credentials"),
        ("https://acme.codeocean.com/?x=1", "query"),
    ],
)
def test_bad_domains_are_refused(domain: str, message: str) -> None:
    with pytest.raises(co.ConfigurationError, match=message):
        co.AsyncCodeOcean(domain=domain, token=TOKEN)


def test_plain_http_needs_an_explicit_opt_in() -> None:
    client = co.AsyncCodeOcean(domain="http://co.internal", token=TOKEN, allow_insecure_http=True)
    assert client.domain == "http://co.internal"


@pytest.mark.parametrize("token", ["", "   "])
def test_empty_token_is_refused(token: str) -> None:
    with pytest.raises(co.ConfigurationError, match="token"):
        co.AsyncCodeOcean(domain="acme.codeocean.com", token=token)


def test_timeouts_are_explicit_and_never_none() -> None:
    assert co.AsyncCodeOcean(domain="a.b", token=TOKEN).timeout == DEFAULT_TIMEOUT
    assert DEFAULT_TIMEOUT.connect is not None
    assert DEFAULT_TIMEOUT.read is not None
    assert co.AsyncCodeOcean(domain="a.b", token=TOKEN, timeout=5).timeout == httpx.Timeout(5)
    with pytest.raises(co.ConfigurationError, match="never None"):
        co.AsyncCodeOcean(domain="a.b", token=TOKEN, timeout=None)  # type: ignore[arg-type]


def test_transport_and_http_client_together_are_refused() -> None:
    with pytest.raises(co.ConfigurationError, match="http_client"):
        co.AsyncCodeOcean(
            domain="a.b",
            token=TOKEN,
            http_client=httpx.AsyncClient(),
            transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        )


@pytest.mark.anyio
async def test_every_request_carries_auth_and_identification() -> None:
    requests: list[httpx.Request] = []
    async with _capture(requests) as client:
        await client.capsules.get("c")
    (request,) = requests
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(f"{TOKEN}:".encode()).decode()
    )
    # The version capsules.get needs (2.18), not the newest operation's (MIN_SERVER_VERSION).
    assert request.headers["min-server-version"] == "2.18.0"
    assert MIN_SERVER_VERSION == "4.8.0"
    assert request.headers["user-agent"].startswith(f"codeocean-async/{co.__version__} ")
    assert request.headers["accept"] == "application/json"
    assert "agent-id" not in request.headers
    assert "content-type" not in request.headers  # no body, no content type


@pytest.mark.anyio
async def test_agent_id_header_when_given() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"id": "c", "name": "n", "created": 1})

    async with mock_client(handler, agent_id="my-agent") as client:
        await client.capsules.get("c")
    assert requests[0].headers["agent-id"] == "my-agent"


def test_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CODEOCEAN_DOMAIN", "acme.codeocean.com")
    monkeypatch.setenv("CODEOCEAN_API_TOKEN", TOKEN)
    monkeypatch.setenv("CODEOCEAN_AGENT_ID", "agent-7")
    client = co.AsyncCodeOcean.from_env()
    assert client.domain == "https://acme.codeocean.com"
    assert client.agent_id == "agent-7"


@pytest.mark.parametrize("missing", ["CODEOCEAN_DOMAIN", "CODEOCEAN_API_TOKEN"])
def test_from_env_names_the_missing_variable(monkeypatch: pytest.MonkeyPatch, missing: str) -> None:
    monkeypatch.setenv("CODEOCEAN_DOMAIN", "acme.codeocean.com")
    monkeypatch.setenv("CODEOCEAN_API_TOKEN", TOKEN)
    monkeypatch.delenv(missing)
    with pytest.raises(co.ConfigurationError, match=missing):
        co.AsyncCodeOcean.from_env()


@pytest.mark.anyio
async def test_closed_client_refuses_use_and_closing_twice_is_fine() -> None:
    requests: list[httpx.Request] = []
    client = _capture(requests)
    async with client:
        await client.capsules.get("c")
    assert client.closed
    assert "closed" in repr(client)
    with pytest.raises(co.ClientClosedError, match="closed"):
        await client.capsules.get("c")
    with pytest.raises(co.ClientClosedError):
        async with client:
            pass
    await client.aclose()
    assert len(requests) == 1  # nothing was sent once closed
    assert client._http_client.is_closed  # it created the httpx client, so it closed it


@pytest.mark.anyio
async def test_a_callers_http_client_is_used_and_left_open() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"id": "c", "name": "n", "created": 1})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http_client:
        async with co.AsyncCodeOcean(domain="a.b", token=TOKEN, http_client=http_client) as client:
            await client.capsules.get("c")
        assert client.closed
        assert not http_client.is_closed
        assert "authorization" not in http_client.headers  # the caller's client is not changed
    assert requests[0].headers["authorization"].startswith("Basic ")
    assert str(requests[0].url) == "https://a.b/api/v1/capsules/c"


@pytest.mark.anyio
async def test_a_closed_callers_http_client_gives_a_clear_error() -> None:
    http_client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    await http_client.aclose()
    client = co.AsyncCodeOcean(domain="a.b", token=TOKEN, http_client=http_client)
    with pytest.raises(co.ClientClosedError, match="httpx client"):
        await client.capsules.get("c")


@pytest.mark.anyio
async def test_token_never_appears_in_reprs_errors_or_debug_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    encoded = base64.b64encode(f"{TOKEN}:".encode()).decode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": "Unauthorized"})

    caplog.set_level(logging.DEBUG)
    client = mock_client(handler)
    texts = [
        repr(client),
        str(client),
        repr(client.computations),
        repr(client._http_client.headers),
    ]
    with pytest.raises(co.AuthenticationError) as info:
        await client.capsules.get("c")
    texts += [str(info.value), repr(info.value), info.value.message]
    await client.aclose()
    texts += [record.getMessage() for record in caplog.records]
    assert any("capsules/c" in record.getMessage() for record in caplog.records)
    for text in texts:
        assert TOKEN not in text
        assert encoded not in text


def test_from_env_domain_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEOCEAN_DOMAIN", raising=False)
    monkeypatch.setenv("CODEOCEAN_API_TOKEN", TOKEN)
    client = co.AsyncCodeOcean.from_env(domain="other.codeocean.com", agent_id="explicit")
    assert client.domain == "https://other.codeocean.com"
    assert client.agent_id == "explicit"


@pytest.mark.anyio
async def test_closing_a_client_closes_its_copies_but_not_the_other_way() -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"id": "c", "name": "n", "created": 1})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http_client:
        client = co.AsyncCodeOcean(domain="a.b", token=TOKEN, http_client=http_client)
        copy = client.with_options(retry=co.RetryPolicy.none())
        second = client.with_options(timeout=5)
        await second.aclose()  # closing a copy leaves the original (and its other copies) open
        await copy.capsules.get("c")
        await client.aclose()
        assert copy.closed
        with pytest.raises(co.ClientClosedError):
            await copy.capsules.get("c")  # the caller's httpx client is still open
        assert not http_client.is_closed
    assert len(requests) == 1
