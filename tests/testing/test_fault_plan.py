"""The fault plan: route and method matching, FIFO scripts, seeded random faults, the logs."""

import httpx
import pytest

from codeocean_async.testing import FakeCodeOcean, Fault

from .conftest import API, BASE_URL

RUN = {"capsule_id": "c1"}


@pytest.fixture
def seeded(fake):
    fake.add_capsule(id="c1")
    return fake


@pytest.mark.anyio
async def test_faults_match_method_and_route(seeded, http):
    comp_id = seeded.add_computation(capsule_id="c1")["id"]
    seeded.faults.script("POST", "/computations", Fault.server_error(502))
    seeded.faults.script("GET", "/capsules/*/computations", Fault.rate_limited())
    seeded.faults.script("get", "/api/v1/data_assets/*/", Fault.server_error(500))
    assert (await http.get(f"/computations/{comp_id}")).status_code == 200
    assert (await http.get("/computations")).status_code == 405
    assert (await http.get("/capsules/c1")).status_code == 200
    assert (await http.get("/capsules/c1/computations")).status_code == 429
    assert (await http.get("/data_assets/none")).status_code == 500
    assert (await http.post("/computations", json=RUN)).status_code == 502
    assert seeded.faults.pending == 0
    assert [(m, p) for m, p, _ in seeded.faults.injected] == [
        ("GET", f"{API}/capsules/c1/computations"),
        ("GET", f"{API}/data_assets/none"),
        ("POST", f"{API}/computations"),
    ]


@pytest.mark.anyio
async def test_any_method_and_paths_outside_the_api(fake, http):
    fake.faults.script("*", "/computations/*", Fault.server_error(504), Fault.server_error(500))
    assert (await http.delete("/computations/x")).status_code == 504
    assert (await http.get("/computations/x")).status_code == 500
    assert (await http.get("/computations/x")).status_code == 404
    fake.faults.script("GET", "/capsules/*", Fault.server_error())
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE_URL) as client:
        assert (await client.get("/api/v2/capsules/c1")).status_code == 401
    assert fake.faults.pending == 1


@pytest.mark.anyio
async def test_faults_act_before_auth(fake):
    fake.faults.script("GET", "/capsules/*", Fault.rate_limited(), Fault.drift())
    async with httpx.AsyncClient(transport=fake.transport(), base_url=BASE_URL + API) as client:
        assert (await client.get("/capsules/c1")).status_code == 429
        unauthorized = await client.get("/capsules/c1")
    assert unauthorized.status_code == 401
    assert "x_fake_drift" in unauthorized.json()
    assert [r.auth_ok for r in fake.requests] == [False, False]


@pytest.mark.anyio
async def test_scripts_are_fifo_then_pass(seeded, http):
    seeded.faults.script("GET", "/capsules/*", Fault.server_error(500), Fault.rate_limited(1))
    seeded.faults.script("GET", "/capsules/*", Fault.server_error(502))
    assert seeded.faults.pending == 3
    statuses = [(await http.get("/capsules/c1")).status_code for _ in range(5)]
    assert statuses == [500, 429, 502, 200, 200]
    assert [f for _, _, f in seeded.faults.injected] == [
        Fault.server_error(500),
        Fault.rate_limited(1),
        Fault.server_error(502),
    ]
    assert [r.fault for r in seeded.requests] == [
        "server_error",
        "rate_limited",
        "server_error",
        None,
        None,
    ]


async def _random_statuses(
    seed: int | None, n: int = 500, rate: float = 0.2
) -> tuple[list[int], FakeCodeOcean]:
    fake = FakeCodeOcean(token="t")
    fake.add_capsule(id="c1")
    choices = [Fault.server_error(503), Fault.rate_limited()]
    fake.faults.random("GET", "/capsules/*", rate=rate, choices=choices, seed=seed)
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=BASE_URL + API, auth=("t", "")
    ) as client:
        return [(await client.get("/capsules/c1")).status_code for _ in range(n)], fake


@pytest.mark.anyio
async def test_random_faults_are_reproducible_with_a_seed():
    statuses, fake = await _random_statuses(seed=7)
    again, _ = await _random_statuses(seed=7)
    other, _ = await _random_statuses(seed=8)
    assert statuses == again
    assert statuses != other
    faulted = [s for s in statuses if s != 200]
    assert 70 <= len(faulted) <= 130
    assert {503, 429} == set(faulted)
    assert len(fake.faults.injected) == len(faulted)
    assert sum(r.fault is not None for r in fake.requests) == len(faulted)
    assert set((await _random_statuses(seed=1, n=20, rate=0.0))[0]) == {200}
    assert set((await _random_statuses(seed=None, n=20, rate=1.0))[0]) <= {429, 503}


@pytest.mark.anyio
async def test_scripts_take_precedence_over_random(seeded, http):
    seeded.faults.random("GET", "/capsules/*", rate=1.0, choices=[Fault.server_error(500)])
    seeded.faults.random("GET", "/capsules/*", rate=1.0, choices=[Fault.server_error(504)])
    seeded.faults.script("GET", "/capsules/*", Fault.rate_limited())
    statuses = [(await http.get("/capsules/c1")).status_code for _ in range(3)]
    assert statuses == [429, 504, 504]  # the second random rule replaced the first


@pytest.mark.anyio
async def test_clear(seeded, http):
    seeded.faults.script("GET", "/capsules/*", Fault.server_error(), Fault.server_error())
    seeded.faults.random("GET", "/capsules/*", rate=1.0, choices=[Fault.rate_limited()])
    assert (await http.get("/capsules/c1")).status_code == 503
    seeded.faults.clear()
    assert (seeded.faults.pending, seeded.faults.injected) == (0, [])
    assert (await http.get("/capsules/c1")).status_code == 200


def test_faults_check_their_arguments():
    assert repr(Fault.rate_limited()) == "Fault.rate_limited()"
    assert repr(Fault.rate_limited(2)) == "Fault.rate_limited(retry_after=2)"
    assert repr(Fault.server_error(502, html=True)) == "Fault.server_error(502, html=True)"
    assert repr(Fault.slow(1)) == "Fault.slow(1.0)"
    assert repr(Fault.drop_after()) == "Fault.drop_after()"
    assert Fault.server_error() == Fault("server_error", status=503)
    with pytest.raises(AttributeError):
        Fault.drift().kind = "slow"  # type: ignore[misc]
    with pytest.raises(ValueError, match="kind"):
        Fault("explode")
    for status in (400, 501, 505, 429):
        with pytest.raises(ValueError, match="status"):
            Fault.server_error(status)
    for retry_after in (-1, float("inf"), float("nan"), "", " ", True):
        with pytest.raises(ValueError, match="retry_after"):
            Fault.rate_limited(retry_after)
    for seconds in (-0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="seconds"):
            Fault.slow(seconds)


def test_plans_check_their_arguments(fake):
    plan = fake.faults
    for method in ("", "GE T", "G3T"):
        with pytest.raises(ValueError, match="method"):
            plan.script(method, "/computations", Fault.drift())
    for route in ("computations", "/computations//x", "", "/"):
        with pytest.raises(ValueError, match="route"):
            plan.script("GET", route, Fault.drift())
    with pytest.raises(ValueError, match="at least one"):
        plan.script("GET", "/computations/*")
    with pytest.raises(TypeError, match="Fault"):
        plan.script("GET", "/computations/*", "drift")
    for rate in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="rate"):
            plan.random("GET", "/computations/*", rate=rate, choices=[Fault.drift()])
    for choices in ([], ["drift"]):
        with pytest.raises(ValueError, match="choices"):
            plan.random("GET", "/computations/*", rate=0.5, choices=choices)
    assert (plan.pending, plan.injected) == (0, [])
    assert repr(plan) == "FaultPlan(pending=0, random_rules=0, injected=0)"
