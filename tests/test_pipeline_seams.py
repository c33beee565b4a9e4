"""The pipeline's seams: one wait before a send (honouring stamina's testing switch), each retry
logged once, hooks instead of launch rules, one route interface, the token's encoding in one
module."""

from __future__ import annotations

import ast
import base64
import logging
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import stamina

import codeocean_async as co
from codeocean_async._auth import basic_authorization, spellings_of_header
from codeocean_async._before_send import wait_before_send
from codeocean_async._redact import Secrets
from codeocean_async._sender import TransportRoute

from .conftest import mock_client

PACKAGE = Path(co.__file__).parent
RUN = {"id": "k1", "created": 1_700_000_000, "state": "initializing", "owner": "me"}
CAPSULE = {"id": "c", "name": "Capsule", "created": 1_700_000_000}


def _answers(*answers: httpx.Response) -> tuple[list[httpx.Request], Any]:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers[min(len(requests), len(answers)) - 1]

    return requests, handler


def _rate_limited(seconds: str) -> httpx.Response:
    return httpx.Response(429, json={"message": "slow down"}, headers={"retry-after": seconds})


# --- one wait before a send ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_testing_switch_reaches_the_launch_gate() -> None:
    """Under ``stamina.set_testing(True)`` a 429 with Retry-After on one launch holds the other
    launches at no real cost (it used to sleep the hint for real)."""
    requests, answer = _answers(_rate_limited("3"), httpx.Response(200, json=RUN))
    limited = anyio.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        limited.set()
        return answer(request)  # type: ignore[no-any-return]

    started = time.monotonic()
    with stamina.set_testing(True):
        async with mock_client(handler) as client:
            with anyio.fail_after(30):
                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(lambda: client.computations.run(capsule_id="c"))
                    await limited.wait()
                    await anyio.sleep(0.05)  # the 429 has closed the gate for 3 s by now
                    await client.computations.run(capsule_id="c")  # meets the closed gate
    assert len(requests) == 3  # the 429, the retry, the held launch
    assert time.monotonic() - started < 2  # the hint was 3 s: none of it was slept


@pytest.mark.anyio
async def test_wait_before_send_asks_again_after_each_wait() -> None:
    asked: list[float] = []
    holds = [0.02, 0.01, 0.0]

    def before_send(request: httpx.Request) -> float:
        asked.append(anyio.current_time())
        return holds[len(asked) - 1]

    request = httpx.Request("GET", "https://acme.codeocean.com/")
    with stamina.set_testing(False):
        start = anyio.current_time()
        await wait_before_send(request, 0.01, before_send)
    assert len(asked) == 3  # a hold extended while waiting is honoured
    assert anyio.current_time() - start >= 0.02


@pytest.mark.anyio
async def test_each_retry_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _, handler = _answers(httpx.Response(503), httpx.Response(200, json=CAPSULE))
    async with mock_client(handler) as client:
        await client.capsules.get("c")
    retries = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in retries] == ["codeocean_async"], [r.getMessage() for r in retries]
    assert "retrying GET /api/v1/capsules/c" in retries[0].getMessage()


# --- hooks instead of launch rules ---------------------------------------------------------------


@pytest.mark.anyio
async def test_before_send_is_asked_before_each_attempt_with_the_request() -> None:
    _, handler = _answers(httpx.Response(503), httpx.Response(200, json=CAPSULE))
    seen: list[str] = []

    def before_send(request: httpx.Request) -> float:
        seen.append(str(request.url))
        return 0.0

    async with mock_client(handler) as client:
        await client._http.request(
            "GET", "capsules/{id}", path_params={"id": "c"}, before_send=before_send
        )
    assert seen == ["https://acme.codeocean.com/api/v1/capsules/c"] * 2


def _imported_names(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / module).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names |= {alias.name for alias in node.names} | {node.module or ""}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return names


def test_the_pipeline_knows_nothing_of_launches() -> None:
    for module in ("_http.py", "_attempt.py", "_sender.py", "_retry.py"):
        names = _imported_names(module)
        assert not {"LaunchUncertainError", "_launch", "LaunchGate"} & names, module


def test_only_the_auth_module_encodes_the_token() -> None:
    users = {
        path.name
        for path in PACKAGE.glob("*.py")  # the package itself; testing/ is the server's side
        if {"base64", "binascii"} & _imported_names(path.name)
    }
    assert users == {"_auth.py"}


def test_the_basic_header_and_its_spellings() -> None:
    header = basic_authorization("cop_secret")
    assert header == "Basic " + base64.b64encode(b"cop_secret:").decode()
    plain, encoded = spellings_of_header(header)
    assert "cop_secret" in plain
    assert base64.b64encode(b"cop_secret:").decode() in encoded
    secrets = Secrets.of_headers({"Authorization": header})
    assert "cop_secret" not in secrets.text(f"echo {header} and cop_secret")


# --- one route interface -------------------------------------------------------------------------

BASE = "https://acme.codeocean.com/api/v1/"
HEADERS = {"authorization": "Basic eA==", "accept": "application/json", "user-agent": "t"}


def _ordinary(method: str, url: str, params: Any, content: bytes | None) -> httpx.Request:
    """The request as httpx builds it from scratch (what the route's shortcut must equal)."""
    headers = HEADERS if content is None else {**HEADERS, "content-type": "application/json"}
    return httpx.Request(method, url, params=params, content=content, headers=headers)


@pytest.mark.parametrize(
    ("method", "path", "params", "content"),
    [
        ("GET", "capsules/4bc97533-6eb4-48ac-966f-648548a756d2", None, None),
        ("POST", "computations", None, b'{"capsule_id":"c"}'),
        ("POST", "computations/x/stop", None, None),
        ("PATCH", "computations/x", None, b"{}"),
        ("DELETE", "computations/x", None, None),
        ("GET", "capsules/caf\u00e9", None, None),  # needs quoting: the ordinary way
        ("GET", "capsules/a:b@c", None, None),
        ("GET", "capsules/c/computations", {"name": "a b&c"}, None),
    ],
)
def test_the_transport_route_builds_what_httpx_builds(
    method: str, path: str, params: Any, content: bytes | None
) -> None:
    timeout = httpx.Timeout(5.0)
    route = TransportRoute(
        client=httpx.AsyncClient(),
        transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        base_url=BASE,
        headers=HEADERS,
        timeout=timeout,
    )
    built = route.build(method, BASE + path, params=params, content=content)
    expected = _ordinary(method, BASE + path, params, content)
    assert (built.method, str(built.url), built.url.raw_path) == (
        expected.method,
        str(expected.url),
        expected.url.raw_path,
    )
    assert built.headers.raw == expected.headers.raw
    assert built.content == expected.content
    assert built.extensions == {"timeout": timeout.as_dict()}
