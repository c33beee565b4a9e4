"""Every operation of the table (the official SDK's 48) sent over a real socket to the served
fake, on both backends: each reaches its route with its method, and the fake answers it."""

from __future__ import annotations

import re
import warnings

import pytest

import codeocean_async as co
from codeocean_async._operations import OPERATIONS
from codeocean_async.testing import FakeCodeOcean, serve_in_thread

from .conftest import FAST_POLL

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_proxies")]

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


def _pattern(path: str) -> re.Pattern[str]:
    """The request paths an operation's template stands for."""
    return re.compile("/api/v1/" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$")


async def _parent_ops(routes: co.Capsules | co.Pipelines, parent: str, unreleased: str) -> None:
    await routes.get(parent)
    await routes.list_computations(parent)
    await routes.get_app_panel(parent)
    permissions = co.Permissions(everyone=co.EveryoneRole.VIEWER)
    await routes.update_permissions(parent, permissions)
    assert (await routes.get_permissions(parent)).everyone is co.EveryoneRole.VIEWER
    await routes.attach_data_assets(parent, [ASSET])
    await routes.detach_data_assets(parent, [ASSET])
    await routes.sync(parent)
    job = await routes.release(parent)
    await routes.get_release_job(parent, job.job_id)
    await routes.search(query="x")
    await routes.archive(unreleased)  # a released one cannot be deleted
    await routes.delete(unreleased)


async def test_all_48_operations_over_a_socket() -> None:
    fake = FakeCodeOcean()
    fake.add_data_asset(id=ASSET, name="Alignment", mount="bam")
    capsule = fake.add_capsule(versions=(1,))["id"]
    pipeline = fake.add_pipeline(versions=(1,))["id"]
    done = fake.add_computation(capsule_id=capsule)["id"]
    workstation = fake.add_computation(capsule_id=capsule, cloud_workstation=True)["id"]
    fake.add_data_asset_file(ASSET, "reads/a.bam", b"BAM")
    with serve_in_thread(fake) as url:
        async with co.AsyncCodeOcean(
            domain=url, token=fake.token, allow_insecure_http=True, poll=FAST_POLL
        ) as client:
            await _parent_ops(client.capsules, capsule, fake.add_capsule()["id"])
            await _parent_ops(client.pipelines, pipeline, fake.add_pipeline()["id"])
            runs, assets = client.computations, client.data_assets
            run = await runs.run(capsule_id=fake.add_capsule()["id"])
            await runs.get(run.id)
            await runs.rename(run.id, name="renamed")
            await runs.delete(run.id)
            await runs.attach_data_assets(workstation, [ASSET])
            await runs.detach_data_assets(workstation, [ASSET])
            await runs.list_results(done)
            await runs.get_result_file_urls(done, "output")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                await runs.get_result_file_download_url(done, "output")
                await assets.get_file_download_url(ASSET, "reads/a.bam")
            await assets.get(ASSET)
            await assets.update_metadata(ASSET, description="reads")
            await assets.update_permissions(ASSET, co.Permissions(share_assets=True))
            await assets.get_permissions(ASSET)
            await assets.search(query="Alignment")
            await assets.list_files(ASSET)
            await assets.get_file_urls(ASSET, "reads/a.bam")
            target = co.Target(aws=co.AWSS3Target(bucket="archive"))
            await assets.transfer(ASSET, co.TransferDataParams(target=target))
            await client.custom_metadata.get()
            made = await assets.create(
                co.DataAssetParams(
                    name="captured",
                    mount="out",
                    tags=[],
                    source=co.Source(computation=co.ComputationSource(id=done)),
                )
            )
            await assets.archive(made.id)
            await assets.delete(made.id)
    seen = [(r.method, r.path) for r in fake.requests]
    assert all(r.auth_ok for r in fake.requests)
    unserved = [
        name
        for name, op in OPERATIONS.items()
        if not any(m == op.method and _pattern(op.path).match(p) for m, p in seen)
    ]
    assert unserved == []
    versions = {r.headers["min-server-version"] for r in fake.requests}
    assert {"2.18.0", "4.8.0"} <= versions  # each operation asks for its own
