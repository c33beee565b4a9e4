"""Deletes that may have acted: a DELETE resent after its first attempt may have reached the
server, answered 404, succeeded (the first did it); a detach is never resent. And the App
Panel in the official SDK's shape."""

from __future__ import annotations

import pytest

import codeocean_async as co
from codeocean_async._converter import structure
from codeocean_async.testing import FakeCodeOcean, Fault

pytestmark = pytest.mark.anyio


def _deletes(fake: FakeCodeOcean) -> int:
    return sum(r.method == "DELETE" for r in fake.requests)


async def test_a_resent_delete_answered_404_is_the_delete_that_worked(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    asset = codeocean_fake.add_data_asset()["id"]
    codeocean_fake.faults.script("DELETE", "/data_assets/*", Fault.drop_after())
    await client.data_assets.delete(asset)  # no NotFoundError: the first attempt deleted it
    assert _deletes(codeocean_fake) == 2
    assert asset not in codeocean_fake.data_assets
    with pytest.raises(co.NotFoundError):  # a 404 that is not an answer to a resend stays one
        await client.data_assets.delete(asset)


async def test_a_capsule_delete_resent_after_it_acted_succeeds(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    await client.capsules.archive(capsule)
    codeocean_fake.faults.script("DELETE", "/capsules/*", Fault.drop_after())
    await client.capsules.delete(capsule)
    with pytest.raises(co.NotFoundError):
        await client.capsules.get(capsule)


async def test_a_detach_that_may_have_acted_is_not_resent(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    asset = codeocean_fake.add_data_asset()["id"]
    capsule = codeocean_fake.add_capsule()["id"]
    await client.capsules.attach_data_assets(capsule, [asset])
    codeocean_fake.faults.script("DELETE", "/capsules/*/data_assets/", Fault.drop_after())
    with pytest.raises(co.APIConnectionError) as caught:
        await client.capsules.detach_data_assets(capsule, [asset])
    assert caught.value.maybe_sent
    assert _deletes(codeocean_fake) == 1
    assert codeocean_fake.attached_data_assets(capsule) == {}  # it did act


def test_an_app_panel_process_in_the_official_sdks_shape_is_read_as_lists() -> None:
    process = {
        "name": "align",
        "categories": {"id": "c1", "name": "Input"},
        "parameters": {"name": "threshold", "type": "text"},
    }
    panel = structure({"processes": [process]}, co.AppPanel)
    assert panel.processes is not None
    [read] = panel.processes
    assert read.categories == (co.AppPanelCategories(id="c1", name="Input"),)
    assert read.parameters is not None
    assert [p.name for p in read.parameters] == ["threshold"]
    lists = structure(
        {"processes": [{**process, "categories": [process["categories"]]}]}, co.AppPanel
    )
    assert lists.processes is not None
    assert lists.processes[0].categories == read.categories
