"""Capsule routes over real sockets, on both engines: a DELETE with a JSON body, a PATCH with
a query, a release followed to its end, and a search across pages."""

from __future__ import annotations

import anyio
import pytest

import codeocean_async as co
from codeocean_async._transport import Engine
from codeocean_async.testing import FakeCodeOcean, ManualClock, serve_in_thread

from .conftest import FAST_POLL

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_proxies")]

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


async def _advance_soon(clock: ManualClock) -> None:
    await anyio.sleep(0.05)
    clock.advance(10)


async def test_capsule_routes_over_sockets(engine: Engine) -> None:
    clock = ManualClock()
    fake = FakeCodeOcean(clock=clock)
    fake.add_data_asset(id=ASSET, mount="bam")
    capsule = fake.add_capsule(versions=(1,), name="c-0")["id"]
    for i in range(1, 3):
        fake.add_capsule(name=f"c-{i}")
    with serve_in_thread(fake) as url:
        async with co.AsyncCodeOcean(
            domain=url, token=fake.token, engine=engine, allow_insecure_http=True, poll=FAST_POLL
        ) as client:
            await client.capsules.attach_data_assets(capsule, [ASSET])
            await client.capsules.detach_data_assets(capsule, [ASSET])
            assert fake.attached_data_assets(capsule) == {}
            (detach,) = [r for r in fake.requests if r.method == "DELETE"]
            assert (detach.path, detach.body) == (
                f"/api/v1/capsules/{capsule}/data_assets/",
                [ASSET],
            )
            await client.capsules.archive(capsule)
            await client.capsules.unarchive(capsule)
            job = await client.capsules.release(capsule)
            async with anyio.create_task_group() as tg:
                tg.start_soon(_advance_soon, clock)
                done = await client.capsules.wait_until_release_completed(capsule, job, timeout=5)
            assert done.status is co.CapsuleReleaseJobStatus.COMPLETED
            names = [c.name async for c in client.capsules.iter_search(limit=2)]
            assert names == ["c-0", "c-1", "c-2"]
