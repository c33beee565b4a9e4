"""What a launch sets up, and what it does not: the costs a batch must not pay per spec."""

from __future__ import annotations

import json
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import codeocean_async as co
from codeocean_async._batch import run_many
from codeocean_async._sender import TransportRoute
from codeocean_async.testing import FakeCodeOcean

pytestmark = pytest.mark.anyio

GUARD = 10  # seconds: a guard against hangs only


async def _launch(params: co.RunParams, on_retry: Any) -> co.Computation:
    await anyio.lowlevel.checkpoint()
    assert params.parameters is not None
    return co.Computation(
        id=f"c-{params.parameters[0]}", created=1, state=co.ComputationState.INITIALIZING
    )


async def test_a_batch_without_a_launch_interval_sets_up_no_pacing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scopes: list[anyio.CancelScope] = []
    real = anyio.CancelScope

    def counted(*args: Any, **kwargs: Any) -> anyio.CancelScope:
        scope = real(*args, **kwargs)
        scopes.append(scope)
        return scope

    monkeypatch.setattr(anyio, "CancelScope", counted)
    specs = [co.RunParams(capsule_id="cap", parameters=[str(i)]) for i in range(20)]
    with anyio.fail_after(GUARD):
        outcomes = await run_many(specs, launch=_launch, concurrency=4)
    assert all(o.ok for o in outcomes)
    assert scopes == []  # no pacing scope per launch (the task group's own is not counted)


async def test_a_batch_encodes_each_spec_once(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch's check serialises each spec; those bytes are what is sent."""
    capsule = codeocean_fake.add_capsule()["id"]
    wanted = [{"capsule_id": capsule, "parameters": [str(i)]} for i in range(5)]
    encoded: list[Any] = []
    real = json.dumps

    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        if obj in wanted:
            encoded.append(obj)
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(json, "dumps", dumps)
    with anyio.fail_after(GUARD):
        outcomes = await client.computations.run_many(wanted, concurrency=2)
    assert all(o.ok for o in outcomes)
    assert sorted(map(str, encoded)) == sorted(map(str, wanted))  # once each, not twice
    sent = [
        codeocean_fake.computations[c]["parameters"] for c in codeocean_fake.created_computations
    ]
    assert sorted(p[0]["value"] for p in sent) == [str(i) for i in range(5)]


@pytest.mark.parametrize("content", [None, b'{"capsule_id":"c"}'])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
async def test_the_sdk_transport_builds_requests_as_httpx_does(
    method: str, content: bytes | None
) -> None:
    headers = {"authorization": "Basic eDo=", "user-agent": "codeocean-async/test"}
    async with httpx.AsyncClient() as client:
        route = TransportRoute(
            client=client,
            transport=httpx.AsyncHTTPTransport(),
            base_url="https://acme.codeocean.test/api/v1/",
            headers=headers,
            timeout=httpx.Timeout(5.0),
        )
        url = "https://acme.codeocean.test/api/v1/computations/abc-1"
        ours = route.build(method, url, params=None, content=content)
        extra = {} if content is None else {"content-type": "application/json"}
        theirs = httpx.Request(method, url, headers={**headers, **extra}, content=content)
        assert (ours.method, str(ours.url), ours.content) == (
            theirs.method,
            str(theirs.url),
            theirs.content,
        )
        assert ours.headers.raw == theirs.headers.raw
        assert ours.headers.encoding == theirs.headers.encoding
