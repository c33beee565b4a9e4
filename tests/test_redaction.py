"""The token is never shown, however a server spells it back: raw, JSON-escaped, percent-encoded,
as an HTML entity or base64; in messages, bodies, the retry log, connection errors and the CLI."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

import pytest

import codeocean_async as co
from codeocean_async import cli
from codeocean_async._redact import Secrets
from codeocean_async._status import error_from_response
from codeocean_async._transport import Engine

from .wire_server import CLOSE, Request, Step, response, serve

pytestmark = pytest.mark.usefixtures("no_proxies")

TOKENS = [
    'cop_ü"\\/tok€n',
    "cop_😀_Secr3t\\x",
    "cop_a/b+c=d&e<f>'g",
    "cop_plain_ascii_0123456789",
]


def b64(text: str, *, urlsafe: bool = False) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    return encode(text.encode()).decode()


def spellings(token: str) -> set[str]:
    """Every way the tests expect a server might echo ``token``."""
    encoded = {
        b64(f"{token}:"),
        b64(token),
        b64(f"{token}:", urlsafe=True),
        b64(token, urlsafe=True),
    }
    encoded |= {e.rstrip("=") for e in encoded}
    forms = {token, *encoded}
    for secret in (token, *encoded):
        for ascii_only in (True, False):
            escaped = json.dumps(secret, ensure_ascii=ascii_only)[1:-1]
            forms |= {escaped, escaped.replace("/", "\\/"), escaped.upper()}
        forms |= {quote(secret, safe=""), quote(secret, safe="").lower(), quote(secret)}
        forms.add("".join(f"&#{ord(c)};" for c in secret))
    return forms


def assert_hidden(token: str, texts: Iterable[str]) -> None:
    forms = spellings(token)
    for text in texts:
        for form in forms:
            assert form not in text, (form, text[:300])


# --- the spellings, one by one ------------------------------------------------------------------


@pytest.mark.parametrize("token", TOKENS)
def test_every_spelling_of_the_token_is_cleared(token: str) -> None:
    secrets = Secrets.of_token(token)
    for form in spellings(token):
        cleared = secrets.text(f"<<{form}>>")
        assert cleared == "<<[redacted]>>", form


@pytest.mark.parametrize("token", TOKENS)
def test_the_client_knows_its_tokens_spellings(token: str) -> None:
    client = co.AsyncCodeOcean(domain="acme.codeocean.com", token=token)
    header = client._http._headers["authorization"]
    text = f"{header} | {token} | {json.dumps(token)} | {quote(token)}"
    assert client._http.secrets.text(text).count("[redacted]") == 4
    assert_hidden(token, [client._http.secrets.text(text)])


def test_short_and_unrelated_words_are_kept() -> None:
    secrets = Secrets.of_token("cop_x")
    assert secrets.text("copy the cop_y file") == "copy the cop_y file"
    assert Secrets(()).text("anything") == "anything"
    assert secrets.value({"a": ["cop_x", 1, None, {"cop_x": "b"}]}) == {
        "a": ["[redacted]", 1, None, {"[redacted]": "b"}]
    }


# --- over the wire, on both engines -------------------------------------------------------------


def echo_body(kind: str, request: Request) -> tuple[bytes, str]:
    """An error body echoing the request's credentials as ``kind`` says, and its type."""
    header = request.headers["authorization"]
    token = base64.b64decode(header.partition(" ")[2]).decode().rstrip(":")
    echoed = {"message": f"bad token {token}", "echo": {"authorization": header}, "all": [token]}
    if kind == "json ascii":
        return json.dumps(echoed).encode(), "application/json"
    if kind == "json utf-8":
        return json.dumps(echoed, ensure_ascii=False).encode(), "application/json; charset=utf-8"
    if kind == "percent":
        return f"token={quote(token, safe='')}&h={quote(header)}".encode(), "text/plain"
    if kind == "base64":
        return f"seen {b64(token)} and {b64(token + ':')}".encode(), "text/plain"
    return f"<html><p>{token}</p></html>".encode(), "text/html; charset=utf-8"


KINDS = ["json ascii", "json utf-8", "percent", "base64", "raw html"]


def echoing(status: int, kind: str) -> Callable[[Request], Iterable[Step]]:
    def handler(request: Request) -> Iterable[Step]:
        body, content_type = echo_body(kind, request)
        return [response(status, body, headers={"content-type": content_type}, reason="Nope")]

    return handler


def texts_of(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc)]
    for error in (exc, exc.__cause__):
        if isinstance(error, co.APIStatusError):
            texts += [error.message, repr(error.body), str(error.body), error.response.text]
    return texts


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 500, 503])
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("token", TOKENS[:2])
async def test_an_echoed_token_is_never_shown(
    token: str, kind: str, status: int, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="codeocean_async")
    retry = co.RetryPolicy(attempts=2)
    with serve(echoing(status, kind)) as server:
        async with co.AsyncCodeOcean(
            domain=server.url, token=token, engine=engine, retry=retry
        ) as client:
            with pytest.raises(co.APIStatusError) as info:
                await client.capsules.get("cap-1")
            with pytest.raises(co.CodeOceanError) as run_info:
                await client.computations.run(capsule_id="cap-1")
    assert info.value.status_code == status
    assert "[redacted]" in info.value.message or kind == "base64"
    assert_hidden(token, texts_of(info.value) + texts_of(run_info.value) + [caplog.text])
    if status == 503:  # the read was retried, and the retry logged with the error
        assert "retrying GET" in caplog.text


@pytest.mark.anyio
async def test_a_token_in_a_failed_requests_url_is_never_shown(engine: Engine) -> None:
    token = TOKENS[0]
    with serve(lambda request: [CLOSE]) as server:
        async with co.AsyncCodeOcean(
            domain=server.url, token=token, engine=engine, retry=co.RetryPolicy.none()
        ) as client:
            with pytest.raises(co.APIConnectionError) as info:
                await client.computations.rename("comp-1", name=f"copy of {token}")
    assert "[redacted]" in str(info.value)
    assert_hidden(token, [str(info.value)])


def test_error_from_response_clears_the_body_values() -> None:
    import httpx

    token = TOKENS[0]
    request = httpx.Request(
        "GET",
        "https://acme.codeocean.com/api/v1/capsules/c",
        headers={"authorization": f"Basic {b64(token + ':')}"},
    )
    nested: Any = {"deep": [{"k": token}]}
    error = error_from_response(
        httpx.Response(400, json={"message": token, "more": nested}, request=request)
    )
    assert error.message == "[redacted]"
    assert error.body == {"message": "[redacted]", "more": {"deep": [{"k": "[redacted]"}]}}


def test_the_cli_never_prints_an_echoed_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = TOKENS[0]
    monkeypatch.delenv("CODEOCEAN_AGENT_ID", raising=False)
    with serve(echoing(400, "json ascii")) as server:
        monkeypatch.setenv("CODEOCEAN_DOMAIN", server.url)
        monkeypatch.setenv("CODEOCEAN_API_TOKEN", token)
        assert cli.main(["capsule", "get", "cap-1"]) != 0
    captured = capsys.readouterr()
    assert "400" in captured.err
    assert_hidden(token, [captured.out, captured.err])


def chain_of(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception behind it (causes and contexts)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


@pytest.mark.anyio
@pytest.mark.parametrize(
    "answer", [b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nbroken\r\n\r\n"]
)
async def test_no_exception_in_the_chain_shows_the_token_in_its_repr(
    answer: bytes, engine: Engine
) -> None:
    # aiohttp's ClientResponseError (kept as the cause of the cause) shows the request's headers,
    # Authorization among them, in its repr: found by the hostile soak.
    token = TOKENS[0]
    with serve(lambda request: [answer, CLOSE]) as server:
        async with co.AsyncCodeOcean(
            domain=server.url, token=token, engine=engine, retry=co.RetryPolicy.none()
        ) as client:
            with pytest.raises(co.APIConnectionError) as info:
                await client.capsules.get("cap-1")
    chain = chain_of(info.value)
    assert len(chain) >= 2  # the cause is kept, for whoever debugs
    assert_hidden(token, [text for e in chain for text in (str(e), repr(e), repr(e.args))])


@pytest.mark.anyio
@pytest.mark.parametrize("pad", [0, 95, 125, 180])
async def test_a_token_quoted_by_a_malformed_answer_is_cleared_before_any_cut(
    pad: int, engine: Engine
) -> None:
    # The engine's message quotes the broken status line; a cut made before redaction left most
    # of the token readable (found in review).
    token = "cop_wire_token_0123456789abcdef"
    raw = f"HTTP/1.1 2000 {'x' * pad}{token}\r\ncontent-length: 2\r\n\r\n{{}}".encode()
    with serve(lambda request: [raw, CLOSE]) as server:
        async with co.AsyncCodeOcean(
            domain=server.url, token=token, engine=engine, retry=co.RetryPolicy.none()
        ) as client:
            with pytest.raises(co.APIConnectionError) as info:
                await client.capsules.get("cap-1")
    texts = [text for e in chain_of(info.value) for text in (str(e), repr(e), repr(e.args))]
    assert_hidden(token, texts)
    assert all("cop_wire_token_0123" not in text for text in texts)  # no part of it either


@pytest.mark.anyio
async def test_an_error_answer_keeps_no_credentials_in_its_reason_headers_or_request(
    engine: Engine,
) -> None:
    token = "cop_wire_token_0123456789abcdef"  # header values on the wire are latin-1

    def echo(request: Request) -> Iterable[Step]:
        header = request.headers["authorization"]
        echoed = {"x-echo-auth": header, "x-echo-token": token}
        return [response(500, b"", headers=echoed, reason=header), CLOSE]

    with serve(echo) as server:
        async with co.AsyncCodeOcean(
            domain=server.url, token=token, engine=engine, retry=co.RetryPolicy.none()
        ) as client:
            with pytest.raises(co.APIStatusError) as info:
                await client.capsules.get("cap-1")
    answer = info.value.response
    assert "[redacted]" in str(info.value)
    assert_hidden(
        token,
        [
            str(info.value),
            info.value.message,
            answer.reason_phrase,
            repr(answer.headers.multi_items()),
            repr(answer.request.headers.multi_items()),
        ],
    )
    assert answer.request.headers["authorization"] == "[redacted]"
