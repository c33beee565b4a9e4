"""Security: the token never leaks, IDs never reshape the URL, redirects, TLS, http, lifecycle."""

from __future__ import annotations

import base64
import inspect
import logging
import os
import socket
import ssl
import traceback
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import codeocean_async as co
from codeocean_async import cli
from codeocean_async._transport import Engine
from codeocean_async.testing import FakeCodeOcean, ManualClock, serve_in_thread

from .conftest import FAST_POLL

TOKEN = "cop_Secr3t_t0ken_4f9a1c2e7b8d"
ENCODED = base64.b64encode(f"{TOKEN}:".encode()).decode()
DOMAIN = "https://acme.codeocean.com"

COMPUTATION = {"id": "c-1", "name": "Run 1", "created": 1_700_000_000, "state": "running"}
FINISHED = {**COMPUTATION, "state": "completed", "end_status": "succeeded", "exit_code": 0}
CAPSULE = {"id": "cap-1", "name": "Capsule", "created": 1_700_000_000}

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx reads proxy variables: keep loopback traffic on loopback."""
    for name in list(os.environ):
        if "proxy" in name.lower():
            monkeypatch.delenv(name)


def make_client(handler: Handler, **kwargs: Any) -> co.AsyncCodeOcean:
    kwargs.setdefault("poll", FAST_POLL)
    kwargs.setdefault("retry", co.RetryPolicy.none())
    return co.AsyncCodeOcean(
        domain=DOMAIN, token=TOKEN, transport=httpx.MockTransport(handler), **kwargs
    )


def assert_no_secret(texts: list[str], *, token: str = TOKEN) -> None:
    encoded = base64.b64encode(f"{token}:".encode()).decode()
    for text in texts:
        assert token not in text, text
        assert encoded not in text, text


def texts_of(exc: BaseException) -> list[str]:
    """Everything a user might print or log about ``exc``."""
    texts = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    for name in ("message", "url", "method", "body", "errors", "computation", "candidates"):
        if hasattr(exc, name):
            texts.append(repr(getattr(exc, name)))
    response = getattr(exc, "response", None)
    if isinstance(response, httpx.Response):
        texts += [repr(response), repr(response.headers), repr(response.request)]
        texts.append(repr(response.request.headers))  # httpx shows it as '[secure]'
    request = getattr(exc, "request", None)
    if isinstance(request, httpx.Request):
        texts += [repr(request), repr(request.headers)]
    if exc.__cause__ is not None:
        texts += [str(exc.__cause__), repr(exc.__cause__)]
    return texts


def log_texts(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [caplog.text] + [r.getMessage() for r in caplog.records]


def logger_roots(caplog: pytest.LogCaptureFixture) -> set[str]:
    return {r.name.partition(".")[0] for r in caplog.records}


def free_port_url() -> str:
    """A loopback URL nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- the token: reprs and errors ---------------------------------------------------------------


def test_client_and_resource_reprs_never_show_the_token() -> None:
    client = make_client(lambda r: httpx.Response(200))
    texts = [repr(client), str(client)]
    texts += [repr(r) for r in (client.capsules, client.pipelines, client.computations)]
    texts += [str(r) for r in (client.capsules, client.pipelines, client.computations)]
    texts += [repr(client._http_client), repr(client._http_client.headers)]
    assert_no_secret(texts)


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500, 502, 503])
@pytest.mark.parametrize(
    "body",
    [
        {"json": {"message": "Something went wrong"}},
        {"content": b"<html><body><h1>Error</h1><p>proxy said no</p></body></html>"},
        {"content": b""},
    ],
    ids=["json", "html", "empty"],
)
async def test_status_errors_never_show_the_token(status: int, body: dict[str, Any]) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, **body)

    async with make_client(handler) as client:
        with pytest.raises(co.APIStatusError) as info:
            await client.capsules.get("cap-1")
    assert info.value.status_code == status
    assert requests[0].headers["authorization"] == f"Basic {ENCODED}"  # it was sent...
    assert_no_secret(texts_of(info.value))  # ...and is shown nowhere


async def _raise_connection_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def _raise_read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("raiser", "expected"),
    [(_raise_connection_error, co.APIConnectionError), (_raise_read_timeout, co.APITimeoutError)],
    ids=["connect", "timeout"],
)
async def test_transport_errors_never_show_the_token(
    raiser: Callable[[httpx.Request], Coroutine[None, None, httpx.Response]],
    expected: type[Exception],
) -> None:
    async with co.AsyncCodeOcean(
        domain=DOMAIN,
        token=TOKEN,
        transport=httpx.MockTransport(raiser),
        retry=co.RetryPolicy.none(),
    ) as client:
        with pytest.raises(expected) as info:
            await client.computations.get("c-1")
        assert_no_secret(texts_of(info.value))
        # A run request that may have been sent: LaunchUncertainError (or a transport error).
        with pytest.raises(co.CodeOceanError) as run_info:
            await client.computations.run(capsule_id="cap-1")
        assert_no_secret(texts_of(run_info.value))


@pytest.mark.anyio
async def test_validation_and_wait_errors_never_show_the_token() -> None:
    answers = {
        "/api/v1/computations/bad-body": httpx.Response(200, content=b"<html>oops</html>"),
        "/api/v1/computations/bad-shape": httpx.Response(200, json={"id": 5, "state": []}),
        "/api/v1/computations/c-1": httpx.Response(200, json=COMPUTATION),
        "/api/v1/computations/c-2": httpx.Response(
            200, json={**FINISHED, "id": "c-2", "end_status": "failed", "exit_code": 1}
        ),
    }
    async with make_client(lambda request: answers[request.url.path]) as client:
        errors: list[BaseException] = []
        for computation_id in ("bad-body", "bad-shape"):
            with pytest.raises(co.ResponseValidationError) as validation:
                await client.computations.get(computation_id)
            errors.append(validation.value)
        with pytest.raises(co.WaitTimeoutError) as timeout:
            await client.computations.wait_for_completion("c-1", timeout=0.02)
        assert timeout.value.computation is not None
        with pytest.raises(co.ComputationFailedError) as failed:
            await client.computations.wait_for_completion("c-2", raise_on_failure=True)
        errors += [timeout.value, failed.value]
    for error in errors:
        assert_no_secret(texts_of(error))


@pytest.mark.anyio
async def test_an_error_body_echoing_the_credentials_is_scrubbed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        echoed = request.headers["authorization"]
        return httpx.Response(400, json={"message": f"bad header: Authorization: {echoed}"})

    async with make_client(handler) as client:
        with pytest.raises(co.BadRequestError) as info:
            await client.capsules.get("cap-1")
    assert_no_secret([str(info.value), info.value.message, repr(info.value.body)])
    assert "[redacted]" in info.value.message


# --- the token: logs, over real sockets --------------------------------------------------------


@pytest.fixture
def served() -> Iterator[tuple[FakeCodeOcean, str]]:
    """The fake on a loopback socket (so httpcore's own DEBUG logging runs), using TOKEN."""
    fake = FakeCodeOcean(token=TOKEN)  # a real clock: runs take a few polls
    fake.add_capsule(id="cap-1", run_durations=(0.01, 0.02, 0.01))
    with serve_in_thread(fake) as url:
        yield fake, url


def expected_loggers(engine: Engine) -> set[str]:
    """The loggers that must have recorded something: httpcore logs only under httpx.

    (httpx's own client layer is skipped when the SDK owns the client, so ``httpx`` is silent.)
    """
    return {"codeocean_async", "httpcore"} if engine == "httpx" else {"codeocean_async"}


@pytest.mark.anyio
async def test_no_log_record_shows_the_token_during_a_run_and_wait(
    served: tuple[FakeCodeOcean, str], caplog: pytest.LogCaptureFixture, engine: Engine
) -> None:
    fake, url = served
    caplog.set_level(logging.DEBUG)
    async with co.AsyncCodeOcean(domain=url, token=TOKEN, poll=FAST_POLL, engine=engine) as client:
        started = await client.computations.run(capsule_id="cap-1")
        final = await client.computations.wait_for_completion(started.id, timeout=30)
        assert final.outcome is co.Outcome.SUCCEEDED
        await client.capsules.get("cap-1")
    assert len(fake.requests) >= 3
    assert expected_loggers(engine) <= logger_roots(caplog)
    assert_no_secret(log_texts(caplog))


@pytest.mark.anyio
async def test_no_log_record_or_error_shows_the_token_on_a_401(
    served: tuple[FakeCodeOcean, str], caplog: pytest.LogCaptureFixture, engine: Engine
) -> None:
    _, url = served
    wrong = "cop_wrong_7d1e9a0b3c5f"
    caplog.set_level(logging.DEBUG)
    async with co.AsyncCodeOcean(domain=url, token=wrong, poll=FAST_POLL, engine=engine) as client:
        with pytest.raises(co.AuthenticationError) as info:
            await client.capsules.get("cap-1")
        with pytest.raises(co.AuthenticationError) as run_info:
            await client.computations.run(capsule_id="cap-1")
    assert expected_loggers(engine) <= logger_roots(caplog)
    for token in (wrong, TOKEN):
        assert_no_secret(log_texts(caplog), token=token)
        assert_no_secret(texts_of(info.value) + texts_of(run_info.value), token=token)


@pytest.mark.anyio
async def test_no_log_record_or_error_shows_the_token_on_a_connection_error(
    caplog: pytest.LogCaptureFixture, engine: Engine
) -> None:
    caplog.set_level(logging.DEBUG)
    fast_retries = co.RetryPolicy(attempts=3, wait_initial=0.001, wait_max=0.002)
    async with co.AsyncCodeOcean(
        domain=free_port_url(), token=TOKEN, retry=fast_retries, engine=engine
    ) as c:
        with pytest.raises(co.APIConnectionError) as info:
            await c.capsules.get("cap-1")
        with pytest.raises(co.CodeOceanError) as run_info:
            await c.computations.run(capsule_id="cap-1")
    assert expected_loggers(engine) <= logger_roots(caplog)
    assert_no_secret(log_texts(caplog) + texts_of(info.value) + texts_of(run_info.value))


def test_the_cli_never_prints_the_token(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "cop_wrong_0a1b2c3d4e5f6a7b"
    fake = FakeCodeOcean(token=TOKEN, clock=ManualClock())
    fake.add_capsule(id="cap-1")
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("CODEOCEAN_AGENT_ID", raising=False)
    with serve_in_thread(fake) as url:
        monkeypatch.setenv("CODEOCEAN_DOMAIN", url)
        monkeypatch.setenv("CODEOCEAN_API_TOKEN", wrong)
        for argv in (
            ["capsule", "get", "cap-1"],
            ["capsule", "get", "cap-1", "--json"],
            ["computations", "list", "cap-1"],
            ["run", "cap-1", "--wait", "--json"],
            ["wait", "c-1"],
        ):
            assert cli.main(argv) == 3, argv
            captured = capsys.readouterr()
            assert captured.out == ""
            assert "401" in captured.err
            assert_no_secret([captured.out, captured.err], token=wrong)
        # With the right token the output is the capsule, and still not the token.
        monkeypatch.setenv("CODEOCEAN_API_TOKEN", TOKEN)
        assert cli.main(["capsule", "get", "cap-1", "--json"]) == 0
        captured = capsys.readouterr()
        assert '"id": "cap-1"' in captured.out
        assert_no_secret([captured.out, captured.err])
    assert_no_secret(log_texts(caplog), token=wrong)
    assert_no_secret(log_texts(caplog))


# --- IDs never reshape the URL -----------------------------------------------------------------

BAD_IDS: list[str] = [
    "",
    "/",
    "..",
    ".",
    "?",
    "#",
    "%2F",
    "%",
    "\\",
    " ",
    " c-1",
    "c-1 ",
    "c 1",
    "\t",
    "\n",
    "c-1\n",
    "\r\n",
    "\x00",
    "c-1\x00",
    "\x01",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u00a0",
    "\u2028",
    "\u200b",
    "\ufeff",
    "a/b",
    "../capsules",
    "..%2Fcapsules",
    "c-1?x=1",
    "c-1#frag",
    "c" * 257,  # longer than any ID
    "c" * 100_000,
]
NOT_STRINGS: list[Any] = [None, 1, 1.5, True, b"c-1", ["c-1"], {"id": "c-1"}]

Call = Callable[[co.AsyncCodeOcean, Any], Any]
ID_METHODS: dict[str, Call] = {
    "capsules.get": lambda c, i: c.capsules.get(i),
    "capsules.list_computations": lambda c, i: c.capsules.list_computations(i),
    "pipelines.get": lambda c, i: c.pipelines.get(i),
    "pipelines.list_computations": lambda c, i: c.pipelines.list_computations(i),
    "computations.get": lambda c, i: c.computations.get(i),
    "computations.delete": lambda c, i: c.computations.delete(i),
    "computations.rename": lambda c, i: c.computations.rename(i, name="new name"),
    "computations.wait_for_completion": lambda c, i: c.computations.wait_for_completion(
        i, timeout=5
    ),
    "computations.watch": lambda c, i: c.computations.watch(i, timeout=5),
    "computations.run(capsule_id)": lambda c, i: c.computations.run(capsule_id=i),
    "computations.run(pipeline_id)": lambda c, i: c.computations.run(pipeline_id=i),
    "computations.run(data_assets)": lambda c, i: c.computations.run(
        capsule_id="cap-1", data_assets=[co.DataAssetsRunParam(i)]
    ),
}


async def call(method: Call, client: co.AsyncCodeOcean, value: Any) -> None:
    """Call ``method`` and drive what it returns: await a coroutine, step an iterator."""
    result = method(client, value)
    if inspect.isawaitable(result):
        await result
    else:
        await result.__anext__()


def counting_handler(requests: list[httpx.Request]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path.endswith("/computations") and request.method == "GET":
            return httpx.Response(200, json=[FINISHED])
        if request.url.path.startswith(("/api/v1/capsules", "/api/v1/pipelines")):
            return httpx.Response(200, json=CAPSULE)
        # A computation answers with the ID asked for (another one is a validation error).
        parts = request.url.path.split("/")
        asked = parts[4] if len(parts) > 4 else FINISHED["id"]
        return httpx.Response(200, json={**FINISHED, "id": asked})

    return handler


@pytest.mark.anyio
@pytest.mark.parametrize("method", ID_METHODS.values(), ids=ID_METHODS.keys())
async def test_bad_ids_are_refused_before_any_request(method: Call) -> None:
    requests: list[httpx.Request] = []
    async with make_client(counting_handler(requests)) as client:
        for bad in BAD_IDS:
            try:
                await call(method, client, bad)
            except ValueError:
                continue
            pytest.fail(f"{bad!r} was accepted")
        for not_a_string in NOT_STRINGS:
            with pytest.raises((TypeError, ValueError)):
                await call(method, client, not_a_string)
        assert requests == []
        await call(method, client, "4bc97533-6eb4-48ac-966f-648548a756d2")  # a good one works
    assert len(requests) >= 1


@pytest.mark.anyio
@pytest.mark.parametrize("bad", ["", "..", "a/b", "c-1\n", "?"])
async def test_a_computation_object_with_a_bad_id_is_refused(bad: str) -> None:
    requests: list[httpx.Request] = []
    computation = co.Computation(id=bad, created=1, state=co.ComputationState.RUNNING)
    async with make_client(counting_handler(requests)) as client:
        with pytest.raises(ValueError):
            await client.computations.wait_for_completion(computation, timeout=5)
        with pytest.raises(ValueError):
            client.computations.watch(computation)
    assert requests == []


@settings(max_examples=300, deadline=None)
@given(value=st.text(max_size=12))
@example(value="4bc97533-6eb4-48ac-966f-648548a756d2")
@example(value="a;b")
@example(value="a..b")
@example(value="x:y@z")
@example(value="ünï©ødé")
@example(value="...")
def test_an_id_is_refused_or_stays_one_path_segment(value: str) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        # Always a computation: an ID such as "computations" must not look like a listing.
        requests.append(request)
        return httpx.Response(200, json={**FINISHED, "id": value})

    async def get() -> None:
        async with make_client(handler) as client:
            await client.computations.get(value)

    try:
        anyio.run(get)
    except ValueError:
        assert requests == []
        return
    (request,) = requests
    assert request.url.host == "acme.codeocean.com"
    assert request.url.path == f"/api/v1/computations/{value}"
    assert request.url.query == b""
    assert request.url.fragment == ""
    assert request.url.raw_path.count(b"/") == 4


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_the_client_does_not_follow_redirects(status: int) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(status, headers={"location": "https://evil.example/steal"})

    async with make_client(handler) as client:
        assert client._http_client.follow_redirects is False
        with pytest.raises(co.APIStatusError) as info:
            await client.capsules.get("cap-1")
    assert info.value.status_code == status
    assert len(requests) == 1
    assert_no_secret(texts_of(info.value))


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("location", "keeps_authorization"),
    [
        ("https://evil.example/api/v1/capsules/cap-1", False),
        ("https://acme.codeocean.com.evil.example/api/v1/capsules/cap-1", False),
        ("https://acme.codeocean.com:8443/api/v1/capsules/cap-1", False),
        ("http://acme.codeocean.com/api/v1/capsules/cap-1", False),  # a downgrade
        ("https://acme.codeocean.com/api/v1/capsules/cap-2", True),
        ("/api/v1/capsules/cap-2", True),
    ],
)
async def test_a_callers_redirecting_client_drops_auth_off_origin(
    location: str, keeps_authorization: bool
) -> None:
    """httpx's rule, asserted so that a change in it is noticed."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if len(requests) == 1:
            return httpx.Response(302, headers={"location": location})
        return httpx.Response(200, json=CAPSULE)

    transport = httpx.MockTransport(handler)
    http_client = httpx.AsyncClient(follow_redirects=True, transport=transport)
    async with (
        http_client,
        co.AsyncCodeOcean(
            domain=DOMAIN, token=TOKEN, http_client=http_client, retry=co.RetryPolicy.none()
        ) as client,
    ):
        capsule = await client.capsules.get("cap-1")
    assert capsule.id == "cap-1"
    first, second = requests
    assert first.headers["authorization"] == f"Basic {ENCODED}"
    assert str(second.url) == str(first.url.join(location))
    assert ("authorization" in second.headers) is keeps_authorization
    if keeps_authorization:
        assert second.headers["authorization"] == f"Basic {ENCODED}"


# --- TLS ---------------------------------------------------------------------------------------


def ssl_context_of(client: co.AsyncCodeOcean) -> ssl.SSLContext:
    """The SSL context the engine under the client uses (resolved on the running backend)."""
    from codeocean_async._transport import AutoTransport

    auto = client._http_client._transport
    assert isinstance(auto, AutoTransport)
    transport = auto.resolve()
    if isinstance(transport, httpx.AsyncHTTPTransport):
        context = transport._pool._ssl_context
    else:
        context = transport.ssl_context  # type: ignore[attr-defined]  # httpx-aiohttp's
    assert isinstance(context, ssl.SSLContext)
    return context


@pytest.mark.anyio
async def test_tls_is_verified_by_default(engine: Engine) -> None:
    context = ssl_context_of(co.AsyncCodeOcean(domain=DOMAIN, token=TOKEN, engine=engine))
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True


@pytest.mark.anyio
async def test_tls_verification_is_off_only_when_asked(engine: Engine) -> None:
    context = ssl_context_of(
        co.AsyncCodeOcean(domain=DOMAIN, token=TOKEN, verify=False, engine=engine)
    )
    assert context.verify_mode == ssl.CERT_NONE
    assert context.check_hostname is False
    own = ssl.create_default_context()
    client = co.AsyncCodeOcean(domain=DOMAIN, token=TOKEN, verify=own, engine=engine)
    assert ssl_context_of(client) is own


@pytest.mark.parametrize("verify", [False, "/etc/ssl/certs/ca-certificates.crt", "context"])
def test_verify_with_a_callers_http_client_is_refused(verify: Any) -> None:
    if verify == "context":
        verify = ssl.create_default_context()
    http_client = httpx.AsyncClient()
    with pytest.raises(co.ConfigurationError, match="verify="):
        co.AsyncCodeOcean(domain=DOMAIN, token=TOKEN, http_client=http_client, verify=verify)


# --- plain http --------------------------------------------------------------------------------

REFUSED_HTTP = [
    "http://10.0.0.1",
    "http://10.0.0.1:8080/",
    "http://192.168.1.10",
    "http://0.0.0.0",
    "http://codeocean.example",
    "HTTP://codeocean.example",
    "http://localhost.evil.com",
    "http://127.0.0.1.evil.com",
    "http://[2001:db8::1]",
]


@pytest.mark.parametrize("domain", REFUSED_HTTP)
def test_plain_http_is_refused_for_hosts_that_are_not_loopback(domain: str) -> None:
    with pytest.raises(co.ConfigurationError, match="refusing plain http") as info:
        co.AsyncCodeOcean(domain=domain, token=TOKEN)
    assert_no_secret(texts_of(info.value))


@pytest.mark.parametrize(
    "domain",
    [
        "http://localhost",
        "http://localhost:8000",
        "http://127.0.0.1",
        "http://127.9.9.9:1234",
        "http://[::1]",
        "http://[::1]:8000/",
    ],
)
def test_plain_http_is_allowed_for_loopback(domain: str) -> None:
    client = co.AsyncCodeOcean(domain=domain, token=TOKEN)
    assert client.domain.startswith("http://")


@pytest.mark.parametrize("domain", REFUSED_HTTP)
def test_plain_http_is_allowed_when_asked(domain: str) -> None:
    client = co.AsyncCodeOcean(domain=domain, token=TOKEN, allow_insecure_http=True)
    assert client.domain.startswith("http://")


@pytest.mark.parametrize(
    "domain",
    ["https://user:secret@acme.codeocean.com", f"https://{TOKEN}@acme.codeocean.com"],
)
def test_credentials_in_the_domain_are_refused_without_echoing_them(domain: str) -> None:
    with pytest.raises(co.ConfigurationError, match="credentials") as info:
        co.AsyncCodeOcean(domain=domain, token=TOKEN)
    assert_no_secret(texts_of(info.value))


# --- lifecycle ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_closing_twice_is_fine_and_a_closed_client_cannot_be_reopened() -> None:
    requests: list[httpx.Request] = []
    client = make_client(counting_handler(requests))
    await client.aclose()
    await client.aclose()
    assert client.closed
    with pytest.raises(co.ClientClosedError):
        async with client:
            pass  # pragma: no cover
    assert client.closed
    assert requests == []


@pytest.mark.anyio
@pytest.mark.parametrize("method", ID_METHODS.values(), ids=ID_METHODS.keys())
async def test_a_request_after_close_is_refused_without_sending(method: Call) -> None:
    requests: list[httpx.Request] = []
    async with make_client(counting_handler(requests)) as client:
        pass
    with pytest.raises(co.ClientClosedError):
        await call(method, client, "c-1")
    assert requests == []


@pytest.mark.anyio
async def test_a_copy_with_other_options_is_closed_with_its_original() -> None:
    requests: list[httpx.Request] = []
    async with make_client(counting_handler(requests)) as client:
        copy = client.with_options(retry=co.RetryPolicy.none())
        await copy.capsules.get("cap-1")
    assert len(requests) == 1
    with pytest.raises(co.ClientClosedError):
        await copy.capsules.get("cap-1")
    assert len(requests) == 1
    assert_no_secret([repr(copy), repr(copy.computations)])
