"""Serving the fake: ASGI lifespan, uvicorn in a thread, the demo command and the pytest plugin."""

import importlib
import textwrap
import time

import httpx
import pytest

from codeocean_async.testing import FakeCodeOcean, serve_in_thread
from codeocean_async.testing._app import DEMO_CAPSULE_ID, DEMO_DATA_ASSET_ID

pytest_plugins = ["pytester"]


def test_serve_in_thread_over_a_real_socket():
    fake = FakeCodeOcean.with_demo_data()
    with serve_in_thread(fake) as url:
        assert url.startswith("http://127.0.0.1:")
        assert int(url.rsplit(":", 1)[1]) > 0
        response = httpx.get(f"{url}/api/v1/capsules/{DEMO_CAPSULE_ID}", auth=(fake.token, ""))
        assert response.status_code == 200
        assert response.json()["name"] == "deepTools-bamCoverage"
        assert httpx.get(f"{url}/api/v1/capsules/x").status_code == 401
    assert [r.path for r in fake.requests] == [
        f"/api/v1/capsules/{DEMO_CAPSULE_ID}",
        "/api/v1/capsules/x",
    ]
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, timeout=2)


def test_serve_in_thread_reports_a_busy_port():
    with serve_in_thread(FakeCodeOcean()) as url:
        port = int(url.rsplit(":", 1)[1])
        with pytest.raises(OSError), serve_in_thread(FakeCodeOcean(), port=port):
            pass  # pragma: no cover


@pytest.mark.anyio
async def test_demo_data():
    fake = FakeCodeOcean.with_demo_data(token="cop_demo")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake),
        base_url="http://codeocean.test/api/v1",
        auth=("cop_demo", ""),
    ) as client:
        capsule = (await client.get(f"/capsules/{DEMO_CAPSULE_ID}")).json()
        asset = (await client.get(f"/data_assets/{DEMO_DATA_ASSET_ID}")).json()
    assert (capsule["name"], capsule["slug"], capsule["status"]) == (
        "deepTools-bamCoverage",
        "7607289",
        "release",
    )
    assert [v["major_version"] for v in capsule["versions"]] == [1, 2]
    assert asset["mount"] == "Alignment"


@pytest.mark.anyio
async def test_lifespan_and_other_scopes():
    fake = FakeCodeOcean()
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message["type"])

    await fake({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    with pytest.raises(ValueError, match="http only"):
        await fake({"type": "websocket"}, receive, send)


def test_demo_command_prints_settings_and_serves(monkeypatch, capsys):
    demo = importlib.import_module("codeocean_async.testing.__main__")
    answers = []

    def serve_one_run_then_ctrl_c() -> None:
        lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
        assert lines["CODEOCEAN_API_TOKEN"] == "cop_cli"
        assert lines["CODEOCEAN_CAPSULE_ID"] == DEMO_CAPSULE_ID
        body = {
            "capsule_id": DEMO_CAPSULE_ID,
            "version": 2,
            "data_assets": [{"id": lines["CODEOCEAN_DATA_ASSET_ID"]}],
        }
        answers.append(
            httpx.post(
                f"{lines['CODEOCEAN_DOMAIN']}/api/v1/computations", auth=("cop_cli", ""), json=body
            )
        )
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "_wait_forever", serve_one_run_then_ctrl_c)
    assert demo.main(["--token", "cop_cli", "--port", "0"]) == 0
    (response,) = answers
    assert response.status_code == 200
    run = response.json()
    assert run["data_assets"] == [{"id": DEMO_DATA_ASSET_ID, "mount": "Alignment"}]
    assert abs(run["created"] - time.time()) < 60


def test_plugin_module_imports_alone():
    plugin = importlib.import_module("codeocean_async.testing._plugin")
    assert {"codeocean_fake", "codeocean_client"} <= set(plugin.__all__)


def test_plugin_fixtures(pytester):
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(params=["asyncio", "trio"])
        def anyio_backend(request):
            return request.param
        """
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest
            from codeocean_async.testing import FakeCodeOcean, ManualClock

            def test_fake(codeocean_fake):
                assert isinstance(codeocean_fake, FakeCodeOcean)
                assert not isinstance(codeocean_fake.clock, ManualClock)  # time moves by itself
                assert codeocean_fake.computations == {}

            def test_fake_on_a_manual_clock(codeocean_fake, codeocean_manual_clock):
                assert codeocean_fake.clock is codeocean_manual_clock

            @pytest.mark.anyio
            async def test_client(codeocean_client, codeocean_fake):
                codeocean_fake.add_capsule(id="c1", name="Mine")
                capsule = await codeocean_client.capsules.get("c1")
                assert capsule.name == "Mine"
                assert codeocean_fake.requests[-1].auth_ok
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_the_listening_socket_is_tcp_so_answers_are_not_delayed() -> None:
    import socket

    from codeocean_async.testing._server import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    try:
        # asyncio sets TCP_NODELAY on accepted connections only when the socket says TCP.
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.type == socket.SOCK_STREAM
    finally:
        sock.close()
