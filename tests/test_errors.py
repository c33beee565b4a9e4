"""Every status maps to its error in one place; messages come from the body; Retry-After parsing."""

from __future__ import annotations

import email.utils
from typing import Any

import httpx
import pytest

import codeocean_async as co
from codeocean_async._errors import parse_retry_after
from codeocean_async._status import error_from_response, excerpt

from .conftest import mock_client

HTML_PAGE = (
    "<html><head><title>400</title><style>p{}</style></head>\n<body><h1>Bad</h1></body></html>"
)
REQUEST = httpx.Request("POST", "https://acme.codeocean.com/api/v1/computations")


def _response(status: int, **kwargs: Any) -> httpx.Response:
    return httpx.Response(status, request=REQUEST, **kwargs)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, co.BadRequestError),
        (401, co.AuthenticationError),
        (403, co.PermissionDeniedError),
        (404, co.NotFoundError),
        (409, co.ConflictError),
        (429, co.RateLimitError),
        (500, co.ServerError),
        (502, co.ServerError),
        (503, co.ServerError),
        (504, co.ServerError),
        (418, co.APIStatusError),
        (422, co.APIStatusError),
    ],
)
def test_each_status_maps_to_its_error(status: int, cls: type[co.APIStatusError]) -> None:
    error = error_from_response(_response(status, json={"message": "nope"}))
    assert type(error) is cls
    assert isinstance(error, co.APIStatusError)
    assert isinstance(error, co.CodeOceanError)
    assert error.status_code == status
    assert error.message == "nope"
    assert error.method == "POST"
    assert error.url == "https://acme.codeocean.com/api/v1/computations"
    assert str(error) == f"{status} on POST https://acme.codeocean.com/api/v1/computations: nope"


def test_json_body_is_kept_whole() -> None:
    body = {"message": "Data asset not found", "datasets": [{"id": "a", "name": "x"}]}
    error = error_from_response(_response(400, json=body))
    assert error.body == body
    assert error.message == "Data asset not found"


@pytest.mark.parametrize(
    ("kwargs", "message", "body"),
    [
        ({"json": ["a", "b"]}, "Bad Request", ["a", "b"]),  # a top-level list
        ({"json": {"errors": ["x"]}}, "Bad Request", {"errors": ["x"]}),  # no message key
        ({"text": "plain words"}, "plain words", None),
        ({"content": b""}, "Bad Request", None),
        (
            {"text": HTML_PAGE},
            "400 Bad",
            None,
        ),
    ],
)
def test_message_without_a_json_message(kwargs: dict[str, Any], message: str, body: Any) -> None:
    error = error_from_response(_response(400, **kwargs))
    assert error.message == message
    assert error.body == body


def test_long_text_bodies_are_cut_to_one_short_line() -> None:
    error = error_from_response(_response(502, text="word\n" * 500))
    assert len(error.message) <= 200
    assert "\n" not in error.message
    assert error.message.endswith("…")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<script>alert(1)</script><p>Hi</p>", "Hi"),
        ("<STYLE>p{}</Style > <b>bold</b> words", "bold words"),
        ("<p>kept</p><script>never closed", "kept"),
        ("a < b and c > d", "a d"),
        ("<p>x</p> then a lone <", "x then a lone <"),
    ],
)
def test_html_pages_keep_their_words(text: str, expected: str) -> None:
    assert excerpt(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        ">" + "<" * 200_000,  # each '<' once sent a regex to the end of the page
        "<p>x</p>" + "<script " * 30_000,
        "<p>x</p><script>" + "</" * 100_000,
        "<a>" + "word " * 200_000,
    ],
)
def test_any_page_gives_one_short_line(text: str) -> None:
    line = excerpt(text)
    assert len(line) <= 200
    assert "\n" not in line
    error = error_from_response(_response(502, text=text))
    assert len(str(error)) < 400


def test_a_long_json_message_is_cut() -> None:
    error = error_from_response(_response(400, json={"message": "word " * 10_000}))
    assert len(error.message) <= 300
    assert error.message.endswith("…")
    assert error.body == {"message": "word " * 10_000}  # the body is kept whole


def test_rate_limit_error_carries_retry_after() -> None:
    assert error_from_response(_response(429, headers={"retry-after": "7"})).retry_after == 7.0  # type: ignore[attr-defined]
    assert error_from_response(_response(429)).retry_after is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  ", None),
        ("0", 0.0),
        ("5", 5.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("nan", None),
        ("inf", None),
        (email.utils.formatdate(1_000_030, usegmt=True), 30.0),
        (email.utils.formatdate(999_990, usegmt=True), 0.0),  # in the past
        ("Wed, 21 Oct 2015 07:28:00", None),  # no zone
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=1_000_000) == expected


def test_wait_timeout_error_is_a_timeout_error() -> None:
    error = co.WaitTimeoutError("late", computation=None)
    assert isinstance(error, TimeoutError)
    assert isinstance(error, co.WaitError)


@pytest.mark.anyio
async def test_transport_errors_become_connection_errors() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with mock_client(refuse) as client:
        with pytest.raises(co.APIConnectionError) as info:
            await client.capsules.get("c")
    assert not isinstance(info.value, co.APITimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert info.value.request.url.path == "/api/v1/capsules/c"


@pytest.mark.anyio
async def test_timeouts_become_timeout_errors() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with mock_client(slow) as client:
        with pytest.raises(co.APITimeoutError) as info:
            await client.computations.get("k")
    assert isinstance(info.value, co.APIConnectionError)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("content", "path"),
    [
        (b"{not json", "not JSON"),
        (b'{"id": "c", "name": "n"}', "$.created"),
        (b'{"id": "c", "name": "n", "created": "yesterday"}', "$.created"),
        (b"[]", "$"),
    ],
)
async def test_bodies_that_do_not_fit_raise_response_validation_error(
    content: bytes, path: str
) -> None:
    async with mock_client(lambda request: httpx.Response(200, content=content)) as client:
        with pytest.raises(co.ResponseValidationError) as info:
            await client.capsules.get("c")
    assert path in str(info.value)
    assert info.value.errors
