"""pytest plugin: fixtures serving the fake Code Ocean in process, and async tests run on anyio.

A plain ``async def test_x(codeocean_client): ...`` runs as written: when no other async plugin
claims it (pytest-asyncio in auto mode, pytest-trio in trio mode) and it carries no
``anyio``/``asyncio``/``trio`` marker, the plugin marks it for anyio, whose pytest plugin runs it
on the backends of its ``anyio_backend`` fixture (recent anyio: each one installed; older anyio:
asyncio), unless the test suite defines its own.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Generator
from typing import TYPE_CHECKING, Any

import pytest

from ._app import FakeCodeOcean
from ._clock import ManualClock, MonotonicClock

if TYPE_CHECKING:
    from codeocean_async import AsyncCodeOcean

__all__ = [
    "FAKE_DOMAIN",
    "FAST_RUN",
    "codeocean_client",
    "codeocean_fake",
    "codeocean_manual_clock",
]

FAKE_DOMAIN = "http://codeocean.test"

#: Seconds a run of the plugin's real-time fake spends initializing, running and finalizing.
FAST_RUN = (0.1, 0.1, 0.1)

_ASYNC_MARKERS = ("anyio", "asyncio", "trio")


@pytest.fixture
def codeocean_manual_clock() -> ManualClock:
    """A ``ManualClock``: ask for it, and ``codeocean_fake`` runs on it (time moves only when the
    test calls ``codeocean_manual_clock.advance(seconds)``; runs take 1 s in each state)."""
    return ManualClock()


@pytest.fixture
def codeocean_fake(request: pytest.FixtureRequest) -> FakeCodeOcean:
    """A fresh, empty FakeCodeOcean on the real clock, from today, whose runs take 0.1 s a state
    (``FAST_RUN``), so a wait finishes by itself. A test that also asks for
    ``codeocean_manual_clock`` gets the fake on that clock instead (1 s in each state)."""
    if "codeocean_manual_clock" in request.fixturenames:
        clock = request.getfixturevalue("codeocean_manual_clock")
        return FakeCodeOcean(clock=clock)
    # Today's time, as a real server's clock shows it: its Date header and `created` times are
    # then believable, which reconciling an uncertain launch relies on.
    return FakeCodeOcean(clock=MonotonicClock(), run_durations=FAST_RUN, base_time=int(time.time()))


@pytest.fixture
async def codeocean_client(codeocean_fake: FakeCodeOcean) -> AsyncIterator[AsyncCodeOcean]:
    """An open ``AsyncCodeOcean`` talking to ``codeocean_fake`` in process (no sockets), polling
    every 20 to 100 ms.

    It goes through ``codeocean_fake.transport()``, so dropped connections raise as over a socket.
    """
    # Imported here so that loading the plugin never imports the client.
    from codeocean_async import AsyncCodeOcean, PollPolicy

    async with AsyncCodeOcean(
        domain=FAKE_DOMAIN,
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),
        allow_insecure_http=True,
        poll=PollPolicy(initial=0.02, maximum=0.1, jitter=0),
    ) as client:
        yield client


def _option(config: pytest.Config, name: str) -> Any:
    """A command-line option or ini value of another plugin; ``None`` when it has none."""
    value = config.getoption(name, default=None)
    if value is None:
        try:
            value = config.getini(name)
        except ValueError:  # not registered: the plugin is not installed
            return None
    return value


def _claimed_elsewhere(config: pytest.Config) -> bool:
    """Whether another plugin runs every async test by itself."""
    manager = config.pluginmanager
    if manager.has_plugin("asyncio") and str(_option(config, "asyncio_mode")) == "auto":
        return True
    trio_mode = _option(config, "trio_mode")
    return manager.has_plugin("trio") and trio_mode not in (None, False, "", "false", "False")


def _wants_anyio(collector: pytest.Module | pytest.Class, name: str, obj: object) -> bool:
    if not (collector.istestfunction(obj, name) and inspect.iscoroutinefunction(obj)):
        return False
    try:
        names = inspect.signature(obj).parameters
    except (TypeError, ValueError):  # pragma: no cover - a coroutine function has a signature
        return False
    if not any(n.startswith("codeocean_") for n in names):
        return False
    own = {getattr(mark, "name", None) for mark in getattr(obj, "pytestmark", ())}
    if own.intersection(_ASYNC_MARKERS):
        return False
    if any(collector.get_closest_marker(marker) for marker in _ASYNC_MARKERS):
        return False
    return not _claimed_elsewhere(collector.config)


@pytest.hookimpl(wrapper=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    # A wrapper: this runs before anyio's own hook, which then sees the marker and gives the
    # test the anyio_backend fixture.
    if _wants_anyio(collector, name, obj):
        pytest.mark.anyio(obj)
    return (yield)
