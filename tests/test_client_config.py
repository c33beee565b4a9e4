"""What the constructor refuses before anything is sent: tokens, timeouts, domains with a path."""

from __future__ import annotations

import base64
import math

import anyio
import httpx
import pytest

import codeocean_async as co
from codeocean_async._client import normalize_domain

TOKEN = "cop_test_token_0123456789"
SECRET = "cop_SECRETpart0123456789"


@pytest.mark.parametrize(
    ("token", "what"),
    [
        (SECRET[:8] + ":" + SECRET[8:], "':'"),
        (SECRET + ":", "':'"),
        (SECRET[:8] + " " + SECRET[8:], "whitespace"),
        (" " + SECRET, "whitespace"),
        (SECRET + " ", "whitespace"),
        (SECRET + "\n", "whitespace"),
        ("\t" + SECRET, "whitespace"),
        (SECRET[:8] + "\u00a0" + SECRET[8:], "whitespace"),
        (SECRET[:8] + "\x00" + SECRET[8:], "control"),
        (SECRET[:8] + "\x7f" + SECRET[8:], "control"),
        (SECRET[:8] + "\u200b" + SECRET[8:], "control"),
    ],
)
def test_a_token_that_cannot_be_sent_intact_is_refused_without_echoing_it(
    token: str, what: str
) -> None:
    with pytest.raises(co.ConfigurationError, match=what) as info:
        co.AsyncCodeOcean(domain="acme.codeocean.com", token=token)
    text = str(info.value) + repr(info.value)
    for part in (SECRET, SECRET[:8], SECRET[8:], "SECRET", "0123456789"):
        assert part not in text
    assert info.value.__cause__ is None
    assert info.value.__context__ is None


@pytest.mark.parametrize(
    "token", ["cop_é∂ø_ümlaut", 'cop_"quoted"', "cop_back\\slash", "cop_a/b/c", "cop_" + "x" * 200]
)
def test_printable_tokens_are_accepted_and_sent_intact(token: str) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers["authorization"])
        return httpx.Response(404, json={"message": "no"})

    async def go() -> None:
        async with co.AsyncCodeOcean(
            domain="acme.codeocean.com", token=token, transport=httpx.MockTransport(handler)
        ) as client:
            with pytest.raises(co.NotFoundError):
                await client.capsules.get("cap-1")

    anyio.run(go)
    (header,) = sent
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == token + ":"


BAD_SECONDS = [0, 0.0, -1, -0.5, math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("seconds", BAD_SECONDS)
def test_a_timeout_of_zero_negative_or_not_finite_is_refused(seconds: float) -> None:
    with pytest.raises(co.ConfigurationError, match="timeout"):
        co.AsyncCodeOcean(domain="a.b", token=TOKEN, timeout=seconds)
    client = co.AsyncCodeOcean(domain="a.b", token=TOKEN)
    with pytest.raises(co.ConfigurationError, match="timeout"):
        client.with_options(timeout=seconds)
    with pytest.raises(co.ConfigurationError, match="timeout"):
        client.with_options(timeout=httpx.Timeout(10, read=seconds))


@pytest.mark.parametrize("part", ["connect", "read", "write", "pool"])
@pytest.mark.parametrize("seconds", [*BAD_SECONDS, None])
def test_every_part_of_an_httpx_timeout_is_checked(part: str, seconds: float | None) -> None:
    timeout = httpx.Timeout(10.0, **{part: seconds})
    with pytest.raises(co.ConfigurationError, match=f"timeout.{part}"):
        co.AsyncCodeOcean(domain="a.b", token=TOKEN, timeout=timeout)


def test_good_timeouts_still_pass() -> None:
    timeout = httpx.Timeout(5.0, connect=1.0)
    assert co.AsyncCodeOcean(domain="a.b", token=TOKEN, timeout=timeout).timeout == timeout
    client = co.AsyncCodeOcean(domain="a.b", token=TOKEN, timeout=0.25)
    assert client.timeout == httpx.Timeout(0.25)
    assert client.with_options(timeout=3).timeout == httpx.Timeout(3)


@pytest.mark.parametrize(
    "domain",
    [
        "https://acme.codeocean.com/api",
        "https://acme.codeocean.com/api/",
        "acme.codeocean.com/api",
        "https://acme.codeocean.com/api/v2",
        "https://acme.codeocean.com/co",
        "https://acme.codeocean.com:8443/co/api/v1",
    ],
)
def test_a_domain_with_another_path_is_refused_saying_what_to_pass(domain: str) -> None:
    with pytest.raises(co.ConfigurationError, match="has a path") as info:
        normalize_domain(domain)
    origin = "https://acme.codeocean.com" + (":8443" if ":8443" in domain else "")
    assert f"such as '{origin}'" in str(info.value)


@pytest.mark.parametrize(
    "domain",
    [
        "https://acme.codeocean.com",
        "https://acme.codeocean.com/",
        "https://acme.codeocean.com/api/v1",
        "https://acme.codeocean.com/api/v1/",
        "acme.codeocean.com/api/v1",
    ],
)
def test_the_api_path_itself_is_accepted(domain: str) -> None:
    assert normalize_domain(domain) == "https://acme.codeocean.com/api/v1/"
