"""The Airflow provider's Airflow-free half: provider info, run fields, XCom JSON, events, clients.

None of this needs Airflow installed; ``make test-airflow`` runs the provider on a real one.
"""

from __future__ import annotations

import ast
import json
import time
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import anyio
import pytest

from codeocean_async import AsyncCodeOcean, DataAssetsRunParam, NamedRunParam, Outcome
from codeocean_async import _airflow_support as support
from codeocean_async._airflow_provider import get_provider_info
from codeocean_async.testing import FakeCodeOcean

from .conftest import FAST_POLL

pytestmark = pytest.mark.anyio

ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"
PACKAGE = Path(support.__file__).parent


def test_the_provider_is_registered_and_its_info_imports_no_airflow() -> None:
    (point,) = entry_points(group="apache_airflow_provider")
    assert point.load() is get_provider_info
    info = get_provider_info()
    assert info["package-name"] == "codeocean-async"
    assert info["connection-types"] == [
        {
            "connection-type": "codeocean",
            "hook-class-name": "codeocean_async.airflow.hooks.CodeOceanHook",
        }
    ]
    for name in ("_airflow_provider.py", "_airflow_support.py"):
        tree = ast.parse((PACKAGE / name).read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] == "airflow"}, name


@pytest.mark.parametrize(
    ("data_assets", "expected"),
    [
        ([{"id": ASSET, "mount": "in"}], [DataAssetsRunParam(ASSET, mount="in")]),
        (
            [f"{ASSET}:in", ASSET],
            [DataAssetsRunParam(ASSET, mount="in"), DataAssetsRunParam(ASSET)],
        ),
        (f'["{ASSET}:in"]', [DataAssetsRunParam(ASSET, mount="in")]),  # a rendered JSON list
        (f"[{{'id': '{ASSET}'}}]", [DataAssetsRunParam(ASSET)]),  # a rendered Python list
        (f"{ASSET}:a, {ASSET}:b", [DataAssetsRunParam(ASSET, mount=m) for m in "ab"]),
    ],
)
def test_run_fields_take_what_a_dag_file_holds(data_assets: Any, expected: Any) -> None:
    params = support.run_params(capsule_id="c1", data_assets=data_assets, version="3")
    assert list(params.data_assets or ()) == expected
    assert params.version == 3


def test_run_fields_are_checked_as_one_run_request() -> None:
    params = support.run_params(
        pipeline_id="p1", named_parameters='{"k": "v"}', parameters="a,b", version=""
    )
    assert params.named_parameters == (NamedRunParam("k", "v"),)
    assert params.parameters == ("a", "b")
    assert params.version is None
    with pytest.raises(ValueError, match="exactly one"):
        support.run_params(capsule_id="c1", pipeline_id="p1")
    with pytest.raises(TypeError, match="version"):
        support.run_params(capsule_id="c1", version=1.5)
    with pytest.raises(ValueError, match="data_assets"):
        support.run_params(capsule_id="c1", data_assets="[not a list")


def test_capture_takes_a_name_a_mount_and_tags() -> None:
    assert support.capture_params(None) is None
    assert support.capture_params({"name": "n", "mount": "m", "tags": "a, b"}) == {
        "name": "n",
        "mount": "m",
        "tags": ["a", "b"],
    }
    with pytest.raises(ValueError, match="'name' and 'mount'"):
        support.capture_params({"name": "n"})
    with pytest.raises(TypeError):
        support.capture_params("n")


async def test_a_computation_goes_to_xcom_as_its_api_json(
    client: AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    cap = codeocean_fake.add_capsule()
    run = codeocean_fake.add_computation(capsule_id=cap["id"], outcome="failed")
    computation = await client.computations.get(run["id"])

    data = support.to_xcom(computation)

    assert json.loads(json.dumps(data)) == data
    assert data["id"] == run["id"]
    assert data["state"] == "completed"
    assert support.from_xcom(data) == computation
    assert support.failure_message(computation).startswith(
        f"Code Ocean computation {run['id']} finished failed"
    )


def test_a_deadline_is_absolute() -> None:
    assert support.seconds_left(None) is None
    assert support.seconds_left(time.time() - 5) == 0
    assert 9 < (support.seconds_left(time.time() + 10) or 0) <= 10


def clients_for(fake: FakeCodeOcean, made: list[AsyncCodeOcean]) -> support.LoopClients:
    async def factory(conn_id: str) -> AsyncCodeOcean:
        await anyio.sleep(0.01)  # others arrive while the first is being built
        if conn_id == "broken":
            raise ValueError("connection 'broken': host is empty")
        client = AsyncCodeOcean(
            domain="http://codeocean.test",
            token=fake.token,
            transport=fake.transport(),
            allow_insecure_http=True,
            poll=FAST_POLL,
        )
        made.append(client)
        return client

    return support.LoopClients(factory)


async def test_waits_on_one_loop_share_one_client_per_connection(
    codeocean_fake: FakeCodeOcean,
) -> None:
    made: list[AsyncCodeOcean] = []
    clients = clients_for(codeocean_fake, made)
    seen: list[AsyncCodeOcean] = []

    async def use(conn_id: str) -> None:
        async with clients.client(conn_id) as client:
            seen.append(client)
            await anyio.sleep(0.02)

    async with anyio.create_task_group() as tg:
        for conn_id in ["a"] * 5 + ["b"] * 3:
            tg.start_soon(use, conn_id)
        await anyio.sleep(0.015)
        assert len(clients) == 2  # open while they wait

    assert len(made) == 2
    assert len(set(map(id, seen))) == 2
    assert len(clients) == 0
    assert all(c.closed for c in made)  # the last to leave closed it
    async with clients.client("a") as again:  # a later wait opens a new one
        assert len(made) == 3
        assert again is made[2]
        assert not again.closed


def test_each_event_loop_gets_its_own_client(codeocean_fake: FakeCodeOcean) -> None:
    made: list[AsyncCodeOcean] = []
    clients = clients_for(codeocean_fake, made)

    async def hold(keep: list[AsyncCodeOcean]) -> None:
        async with clients.client("a") as client:
            keep.append(client)

    for _ in range(2):  # dag.test() runs each trigger in a fresh loop
        anyio.run(hold, [])
    assert len(made) == 2
    assert made[0] is not made[1]


async def test_a_connection_that_cannot_be_read_fails_every_wait_on_it(
    codeocean_fake: FakeCodeOcean,
) -> None:
    clients = clients_for(codeocean_fake, [])
    errors: list[str] = []

    async def use() -> None:
        event = await support.follow(clients, "broken", "c1")
        errors.append(event["message"])

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(use)
    assert len(errors) == 3
    assert all("host is empty" in e for e in errors)
    assert len(clients) == 0


async def test_follow_is_one_event_per_wait(codeocean_fake: FakeCodeOcean) -> None:
    clients = clients_for(codeocean_fake, [])
    cap = codeocean_fake.add_capsule()
    done = codeocean_fake.add_computation(capsule_id=cap["id"])
    running = codeocean_fake.add_computation(capsule_id=cap["id"], durations=(60, 60, 60))

    finished = await support.follow(clients, "a", done["id"], capsule_id=cap["id"])
    timed_out = await support.follow(clients, "a", running["id"], deadline=time.time())
    missing = await support.follow(clients, "a", "4bc97533-6eb4-48ac-966f-648548a756d2")

    assert finished["status"] == "finished"
    assert finished["outcome"] == "succeeded"
    assert support.outcome_of(finished) is Outcome.SUCCEEDED
    assert timed_out["status"] == "timeout"
    assert timed_out["computation"]["id"] == running["id"]
    assert support.outcome_of(timed_out) is None
    assert missing["status"] == "error"
    assert "NotFoundError" in missing["message"]


async def test_the_wait_names_the_runs_parent_so_waits_share_one_poll_loop(
    codeocean_fake: FakeCodeOcean,
) -> None:
    capsule = codeocean_fake.add_capsule()["id"]
    runs = [codeocean_fake.add_computation(capsule_id=capsule)["id"] for _ in range(4)]
    async with AsyncCodeOcean(
        domain="http://codeocean.test",
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),
        allow_insecure_http=True,
    ) as client:
        codeocean_fake.reset_requests()
        async with anyio.create_task_group() as tg:
            for run in runs:
                tg.start_soon(partial(support.wait_for, client, run, capsule_id=capsule, timeout=5))
    # Runs of a named capsule, started elsewhere: followed through the capsule's listing.
    paths = {r.path for r in codeocean_fake.requests}
    assert paths == {f"/api/v1/capsules/{capsule}/computations"}
