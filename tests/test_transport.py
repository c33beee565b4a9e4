"""The engine under httpx: aiohttp on asyncio when installed, httpx's pool otherwise."""

from __future__ import annotations

from collections.abc import Iterator

import anyio
import anyio.abc
import httpx
import pytest

import codeocean_async as co
from codeocean_async import _transport
from codeocean_async._transport import AutoTransport
from codeocean_async.testing import FakeCodeOcean, serve_in_thread

pytestmark = pytest.mark.anyio


@pytest.fixture
def served() -> Iterator[tuple[FakeCodeOcean, str]]:
    fake = FakeCodeOcean()
    fake.add_capsule(id="cap-1")
    with serve_in_thread(fake) as url:
        yield fake, url


def engine_of(client: co.AsyncCodeOcean) -> str | None:
    transport = client._http_client._transport
    assert isinstance(transport, AutoTransport)
    return transport.engine


async def test_auto_picks_aiohttp_on_asyncio_and_httpx_on_trio(
    served: tuple[FakeCodeOcean, str], anyio_backend: str
) -> None:
    fake, url = served
    async with co.AsyncCodeOcean(domain=url, token=fake.token) as client:
        assert engine_of(client) is None  # chosen on the first request
        assert (await client.capsules.get("cap-1")).id == "cap-1"
        assert engine_of(client) == ("aiohttp" if anyio_backend == "asyncio" else "httpx")


async def test_httpx_can_be_chosen_on_any_backend(served: tuple[FakeCodeOcean, str]) -> None:
    fake, url = served
    async with co.AsyncCodeOcean(domain=url, token=fake.token, engine="httpx") as client:
        await client.capsules.get("cap-1")
        assert engine_of(client) == "httpx"


async def test_aiohttp_on_trio_is_refused_clearly(anyio_backend: str) -> None:
    if anyio_backend != "trio":
        pytest.skip("trio only")
    client = co.AsyncCodeOcean(domain="acme.codeocean.com", token="cop_x", engine="aiohttp")
    with pytest.raises(co.ConfigurationError, match="asyncio only"):
        await client.capsules.get("cap-1")


async def test_without_the_extra_auto_uses_httpx_and_aiohttp_is_refused(
    served: tuple[FakeCodeOcean, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_transport, "aiohttp_installed", lambda: False)
    with pytest.raises(co.ConfigurationError, match=r"codeocean-async\[aiohttp\]"):
        co.AsyncCodeOcean(domain="acme.codeocean.com", token="cop_x", engine="aiohttp")
    fake, url = served
    async with co.AsyncCodeOcean(domain=url, token=fake.token) as client:
        await client.capsules.get("cap-1")
        assert engine_of(client) == "httpx"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "curl"}, "engine must be"),
        ({"engine": "httpx", "transport": "t"}, "transport= or engine="),
        ({"engine": "httpx", "http_client": "c"}, "engine="),
    ],
)
async def test_bad_engine_arguments(kwargs: dict[str, object], message: str) -> None:
    import httpx

    if kwargs.get("transport") == "t":
        kwargs["transport"] = httpx.MockTransport(lambda r: httpx.Response(200))
    if kwargs.get("http_client") == "c":
        kwargs["http_client"] = httpx.AsyncClient()
    with pytest.raises(co.ConfigurationError, match=message):
        co.AsyncCodeOcean(domain="acme.codeocean.com", token="cop_x", **kwargs)  # type: ignore[arg-type]


async def test_a_refused_connection_is_never_sent_on_either_engine(anyio_backend: str) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    engines = ["httpx", "aiohttp"] if anyio_backend == "asyncio" else ["httpx"]
    for engine in engines:
        async with co.AsyncCodeOcean(
            domain=f"http://127.0.0.1:{port}",
            token="cop_x",
            retry=co.RetryPolicy(attempts=2),
            engine=engine,  # type: ignore[arg-type]
        ) as client:
            with pytest.raises(co.APIConnectionError) as info:
                await client.computations.run(capsule_id="c")
        # httpx-aiohttp names a refused connection a connect *timeout*; the wire says otherwise.
        assert not isinstance(info.value, co.LaunchUncertainError), engine
        assert info.value.maybe_sent is False, engine


async def test_the_aiohttp_engine_switches_off_aiohttps_own_resend(anyio_backend: str) -> None:
    if anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    from codeocean_async._aiohttp_engine import quiet_transport

    transport = quiet_transport(verify=True, limits=httpx.Limits())
    assert callable(transport.client)
    session = transport.client()
    try:
        # aiohttp resends a GET or DELETE once on a dropped reused connection unless this is off
        # (tests/test_wire_faults.py shows it on the wire).
        assert session._retry_connection is False
    finally:
        await session.close()
