"""Payload drift: unknown keys, missing optional keys and new enum values that change no flow."""

from typing import Any

import pytest

from codeocean_async.testing import Fault
from codeocean_async.testing._records import OUTCOMES

CAPSULE = "4bc97533-6eb4-48ac-966f-648548a756d2"
OPTIONAL = {"owner_email", "cloud_workstation", "tags", "description"}


def _unknown_everywhere(value: Any, top: bool = True) -> bool:
    """Every object carries x_fake_drift; the top level ones hold a nested object and array."""
    if isinstance(value, list):
        return all(_unknown_everywhere(item, top) for item in value)
    if not isinstance(value, dict):
        return True
    if top and value["x_fake_drift"] != {"since": "99.0", "items": [{"kind": "new"}]}:
        return False
    if not top and value.get("x_fake_drift") != "new":
        return False
    return all(_unknown_everywhere(v, False) for k, v in value.items() if k != "x_fake_drift")


@pytest.mark.anyio
async def test_drifted_capsule(fake, http):
    fake.add_capsule(
        id=CAPSULE, versions=(1, 2), description="coverage", field="Bio", tags=("ChIP",)
    )
    fake.faults.script("GET", "/capsules/*", Fault.drift())
    drifted = (await http.get(f"/capsules/{CAPSULE}")).json()
    normal = (await http.get(f"/capsules/{CAPSULE}")).json()
    assert normal["status"] == "release"
    assert drifted["status"] == "under_review"
    assert not OPTIONAL & set(drifted)
    assert set(normal) | {"cloud_workstation"} >= OPTIONAL
    assert _unknown_everywhere(drifted)
    assert len(drifted["versions"]) == 2
    for key in ("id", "created", "name", "owner", "slug", "field"):
        assert drifted[key] == normal[key]


@pytest.mark.anyio
async def test_drifted_run_and_list(fake, clock, http):
    fake.add_capsule(id="c1")
    fake.add_data_asset(id="d1", mount="in")
    fake.faults.script("POST", "/computations", Fault.drift())
    fake.faults.script("GET", "/capsules/*/computations", Fault.drift())
    body = {"capsule_id": "c1", "data_assets": [{"id": "d1"}], "parameters": ["a"]}
    run = (await http.post("/computations", json=body)).json()
    stored = fake.computations[run["id"]]
    assert (stored["state"], run["state"]) == ("initializing", "queued")
    assert "has_results" not in run
    assert not OPTIONAL & set(run)
    assert _unknown_everywhere(run)
    assert run["data_assets"][0]["id"] == "d1"
    assert run["parameters"][0]["value"] == "a"
    clock.advance(1.5)
    (listed,) = (await http.get("/capsules/c1/computations")).json()
    assert listed["state"] == "running"  # only initializing gets a new name
    assert _unknown_everywhere([listed])


@pytest.mark.anyio
@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
async def test_drift_never_touches_a_terminal_answer(fake, clock, http, outcome):
    comp_id = fake.add_computation(outcome=outcome, durations=(1, 1, 1))["id"]
    clock.advance(10)
    fake.faults.script("GET", "/computations/*", Fault.drift())
    drifted = (await http.get(f"/computations/{comp_id}")).json()
    normal = fake.computations[comp_id]
    for key in ("state", "end_status", "exit_code"):
        assert drifted.get(key) == normal.get(key)
    if normal["has_results"]:
        assert drifted["has_results"] is True
    else:
        assert "has_results" not in drifted


@pytest.mark.anyio
async def test_drifted_error_answers_keep_their_status(fake, http):
    fake.faults.script("GET", "/computations/*", Fault.drift())
    response = await http.get("/computations/missing")
    assert response.status_code == 404
    assert response.json() == {
        "message": "Computation missing not found",
        "x_fake_drift": {
            "since": "99.0",
            "items": [{"kind": "new"}],
        },
    }
