"""POST /computations: what the fake accepts, what it rejects, and the JSON of a new run."""

import pytest

CAPSULE = "4bc97533-6eb4-48ac-966f-648548a756d2"
ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


@pytest.fixture
def seeded(fake):
    fake.add_capsule(id=CAPSULE, versions=(1, 2))
    fake.add_capsule(id="draft")
    fake.add_pipeline(id="pipe", versions=(3,))
    fake.add_data_asset(id=ASSET, name="Alignment", mount="Alignment")
    fake.add_data_asset(id="d2", mount="ref")
    return fake


@pytest.mark.anyio
async def test_capsule_run_returns_the_new_computation(seeded, clock, http):
    clock.advance(12.7)
    body = {
        "capsule_id": CAPSULE,
        "version": 2,
        "data_assets": [{"id": ASSET, "mount": "in"}, {"id": "d2"}],
        "parameters": ["a", "1"],
        "named_parameters": [{"param_name": "bin", "value": "50"}],
        "resume_run_id": "k0",
        "unknown_key": {"ignored": True},
    }
    response = await http.post("/computations", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    run = response.json()
    assert run == {
        "id": run["id"],
        "created": 1_700_000_012,
        "name": "Run 0000012",
        "owner": "467ef120-2c93-42eb-8865-5866004243bf",
        "owner_email": "owner@example.com",
        "run_time": 0,
        "state": "initializing",
        "has_results": False,
        "cloud_workstation": False,
        "data_assets": [{"id": ASSET, "mount": "in"}, {"id": "d2", "mount": "ref"}],
        "parameters": [
            {"value": "a"},
            {"value": "1"},
            {"param_name": "bin", "value": "50"},
        ],
    }
    assert len(run["id"]) == 36
    assert seeded.created_computations == [run["id"]]
    assert seeded.computations[run["id"]] == run


@pytest.mark.anyio
async def test_pipeline_run_with_processes(seeded, http):
    body = {
        "pipeline_id": "pipe",
        "version": 3,
        "nextflow_profile": "aws",
        "processes": [
            {"name": "align", "parameters": ["x"], "named_parameters": None},
            {"name": "count", "named_parameters": [{"param_name": "k", "value": "v"}]},
            {"name": "plain"},
        ],
    }
    run = (await http.post("/computations", json=body)).json()
    assert run["nextflow_profile"] == "aws"
    assert run["data_assets"] == []
    assert run["parameters"] == []
    align, count, plain = run["processes"]
    assert (align["name"], align["parameters"]) == ("align", [{"value": "x"}])
    assert count["parameters"] == [{"param_name": "k", "value": "v"}]
    assert plain == {"name": "plain", "capsule_id": plain["capsule_id"]}
    assert len({align["capsule_id"], count["capsule_id"], plain["capsule_id"]}) == 3
    listed = (await http.get("/pipelines/pipe/computations")).json()
    assert [c["id"] for c in listed] == [run["id"]]


@pytest.mark.anyio
async def test_nulls_count_as_unset(seeded, http):
    # What the official SDK sends: every unset RunParams field as null.
    body = dict.fromkeys(
        [
            "pipeline_id",
            "version",
            "resume_run_id",
            "nextflow_profile",
            "data_assets",
            "parameters",
            "named_parameters",
            "processes",
        ]
    )
    body["capsule_id"] = CAPSULE
    run = (await http.post("/computations", json=body)).json()
    assert run["state"] == "initializing"
    assert "nextflow_profile" not in run
    assert "processes" not in run


BAD_REQUESTS = [
    ({"capsule_id": CAPSULE, "pipeline_id": "pipe"}, "exactly one"),
    ({}, "exactly one"),
    ({"capsule_id": None, "pipeline_id": ""}, "exactly one"),
    ({"capsule_id": 7}, "capsule_id must be a string"),
    # The seed page's broken example: an object where an array belongs.
    ({"capsule_id": CAPSULE, "data_assets": {"id": ASSET, "mount": "Alignment"}}, "array"),
    ({"capsule_id": CAPSULE, "data_assets": [{"id": "nope"}]}, "data asset nope not found"),
    ({"capsule_id": CAPSULE, "data_assets": [{"mount": "x"}]}, "id is required"),
    ({"capsule_id": CAPSULE, "data_assets": [ASSET]}, "array of objects"),
    ({"capsule_id": CAPSULE, "data_assets": [{"id": ASSET, "mount": 3}]}, "mount"),
    ({"capsule_id": CAPSULE, "parameters": "a b"}, "parameters must be an array"),
    ({"capsule_id": CAPSULE, "parameters": [1]}, "array of strings"),
    ({"capsule_id": CAPSULE, "named_parameters": [{"param_name": "a"}]}, "named_parameters"),
    ({"capsule_id": CAPSULE, "named_parameters": [{"value": "a"}]}, "named_parameters"),
    ({"capsule_id": CAPSULE, "version": "1"}, "version '1'"),
    ({"capsule_id": CAPSULE, "version": 1.0}, "version 1.0"),
    ({"capsule_id": CAPSULE, "version": True}, "version True"),
    ({"capsule_id": CAPSULE, "version": 3}, "not a released version"),
    ({"capsule_id": "draft", "version": 1}, "not a released version"),
    ({"capsule_id": CAPSULE, "processes": [{"name": "a"}]}, "pipeline runs only"),
    ({"pipeline_id": "pipe", "processes": [{"parameters": []}]}, "name is required"),
    ({"pipeline_id": "pipe", "processes": {"name": "a"}}, "processes must be an array"),
    ({"pipeline_id": "pipe", "processes": [{"name": "a", "parameters": [2]}]}, "processes[]."),
    ({"capsule_id": CAPSULE, "nextflow_profile": ["a"]}, "nextflow_profile"),
    ({"capsule_id": CAPSULE, "resume_run_id": 5}, "resume_run_id"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("body", "message"), BAD_REQUESTS)
async def test_bad_run_params_are_400(seeded, clock, http, body, message):
    seeded.plan_next_run(outcome="failed")
    response = await http.post("/computations", json=body)
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert seeded.created_computations == []
    assert seeded.computations == {}
    # A rejected run leaves the plan untouched: the next good one takes it.
    run = (await http.post("/computations", json={"capsule_id": CAPSULE})).json()
    clock.advance(3)
    assert (await http.get(f"/computations/{run['id']}")).json()["end_status"] == "failed"


@pytest.mark.anyio
@pytest.mark.parametrize("content", [b"", b"{not json", b"[]", b'"capsule"', b"null"])
async def test_body_must_be_a_json_object(seeded, http, content):
    response = await http.post("/computations", content=content)
    assert response.status_code == 400
    assert "JSON" in response.json()["message"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"capsule_id": "pipe"}, "Capsule pipe not found"),
        ({"capsule_id": "ghost"}, "Capsule ghost not found"),
        ({"pipeline_id": CAPSULE}, f"Pipeline {CAPSULE} not found"),
    ],
)
async def test_unknown_capsule_or_pipeline_is_404(seeded, http, body, message):
    response = await http.post("/computations", json=body)
    assert response.status_code == 404
    assert response.json() == {"message": message}


@pytest.mark.anyio
async def test_created_computations_in_order(seeded, clock, http):
    ids = []
    for _ in range(3):
        ids.append((await http.post("/computations", json={"capsule_id": CAPSULE})).json()["id"])
        clock.advance(1)
    assert seeded.created_computations == ids
    assert len(set(ids)) == 3
