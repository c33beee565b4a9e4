"""Decoding the API's payloads, tolerance rules, the outcome verdict, and run-request bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from codeocean_async import (
    Capsule,
    CapsuleStatus,
    Computation,
    ComputationEndStatus,
    ComputationState,
    DataAssetsRunParam,
    NamedRunParam,
    Outcome,
    PipelineProcessParams,
    RunParams,
    Version,
    from_json,
    to_json,
)
from codeocean_async._converter import structure, unstructure

from .conftest import load_fixture


def test_seed_capsule_legacy_names_are_read_into_current_ones() -> None:
    capsule = structure(load_fixture("seed_capsule.json"), Capsule)
    assert capsule.id == "4bc97533-6eb4-48ac-966f-648548a756d2"
    assert capsule.name == "deepTools-bamCoverage"
    assert capsule.created == 1673385764
    assert capsule.tags == ("ChIP", "Normalization")  # was "keywords"
    assert capsule.release_capsule == ""  # was "published_capsule"
    assert capsule.status is CapsuleStatus.NON_RELEASE  # was "non-published"
    assert capsule.slug == "7607289"
    assert capsule.owner == "467ef120-2c93-42eb-8865-5866004243bf"
    assert capsule.field == "Bioinformatics"
    assert capsule.versions is None
    assert capsule.latest_version is None


@pytest.mark.parametrize(
    ("legacy", "current"),
    [
        ("non-published", CapsuleStatus.NON_RELEASE),
        ("non_published", CapsuleStatus.NON_RELEASE),
        ("submitted", CapsuleStatus.NON_RELEASE),
        ("publishing", CapsuleStatus.NON_RELEASE),
        ("published", CapsuleStatus.RELEASE),
        ("verified", CapsuleStatus.RELEASE),
        ("release", CapsuleStatus.RELEASE),
        ("non_release", CapsuleStatus.NON_RELEASE),
    ],
)
def test_capsule_statuses_old_and_new(legacy: str, current: CapsuleStatus) -> None:
    capsule = structure({"id": "c", "name": "n", "created": 1, "status": legacy}, Capsule)
    assert capsule.status is current


def test_current_names_win_over_legacy_ones() -> None:
    data = {"id": "c", "name": "n", "created": 1, "tags": ["new"], "keywords": ["old"]}
    assert structure(data, Capsule).tags == ("new",)


def test_current_capsule_decodes_every_field() -> None:
    capsule = structure(load_fixture("capsule_current.json"), Capsule)
    assert capsule.status is CapsuleStatus.RELEASE
    assert capsule.owner_email == "scientist@example.org"
    assert capsule.last_accessed == 1710000000
    assert capsule.original_capsule is not None
    assert capsule.original_capsule.public is True
    assert capsule.article is not None
    assert capsule.article.journal_name == "J"
    assert capsule.submission is not None
    assert capsule.submission.verified is True
    assert capsule.versions == (
        Version(major_version=1, minor_version=0, release_time=1700500000),
        Version(
            major_version=2, minor_version=1, release_time=1708000000, doi="10.24433/CO.1234567.v2"
        ),
    )
    assert capsule.latest_version is not None
    assert capsule.latest_version.major_version == 2


def test_versions_also_accepted_as_a_dictionary() -> None:
    one = {"major_version": 3, "minor_version": 0, "release_time": 5}
    as_single = structure({"id": "c", "name": "n", "created": 1, "versions": one}, Capsule)
    as_mapping = structure({"id": "c", "name": "n", "created": 1, "versions": {"3": one}}, Capsule)
    assert as_single.versions == as_mapping.versions == (Version(major_version=3, release_time=5),)


@pytest.mark.parametrize(
    "name", ["seed_list_computation.json", "seed_run_data_assets.json", "seed_run_version.json"]
)
def test_seed_computations_decode(name: str) -> None:
    data = load_fixture(name)
    computation = structure(data, Computation)
    assert computation.id == data["id"]
    assert computation.name == data["name"]
    assert computation.created == data["created"]
    assert computation.state == data["state"]
    assert computation.state.known
    assert computation.owner is None  # the seed predates `owner`: missing optional -> None


def test_list_computations_is_an_array() -> None:
    computations = structure([load_fixture("seed_list_computation.json")] * 2, list[Computation])
    assert [c.outcome for c in computations] == [Outcome.SUCCEEDED, Outcome.SUCCEEDED]


def test_current_computation_decodes_every_field() -> None:
    c = structure(load_fixture("computation_current.json"), Computation)
    assert c.state is ComputationState.COMPLETED
    assert c.end_status is ComputationEndStatus.SUCCEEDED
    assert c.exit_code == 0
    assert c.has_results is True
    assert c.cloud_workstation is False
    assert c.run_time == 84184
    assert c.data_assets is not None
    assert [(a.id, a.mount) for a in c.data_assets] == [
        ("bf8cf993-a583-495c-bebd-2f38f81d1ea1", "Alignment"),
        ("c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f", None),
    ]
    assert c.parameters is not None
    assert c.parameters[0].param_name == "threshold"
    assert c.parameters[1].value == "fast"
    assert c.nextflow_profile == "local"
    assert c.processes is not None
    assert c.processes[0].version == 2
    assert c.processes[0].parameters is not None
    assert c.processes[0].parameters[0].value == "4"
    assert c.outcome is Outcome.SUCCEEDED


# --- tolerance ---------------------------------------------------------------------------------

BASE: dict[str, Any] = {"id": "k", "created": 1700000000, "state": "running"}


def test_unknown_keys_are_ignored() -> None:
    c = structure({**BASE, "brand_new_field": {"x": 1}, "result_size": 1.5}, Computation)
    assert c.id == "k"


def test_unknown_enum_values_are_kept_readable() -> None:
    c = structure({**BASE, "state": "paused", "end_status": "preempted"}, Computation)
    assert c.state == "paused"
    assert str(c.state) == "paused"
    assert not c.state.known
    assert isinstance(c.state, ComputationState)
    assert not c.finished  # an unknown state is not terminal: keep waiting
    assert c.outcome is Outcome.NOT_FINISHED
    assert c.end_status == "preempted"


@pytest.mark.parametrize(
    ("created", "expected"), [(1689691505, 1689691505), (1689691505.9, 1689691505)]
)
def test_created_accepts_int_or_float(created: float, expected: int) -> None:
    assert structure({**BASE, "created": created}, Computation).created == expected


def test_missing_optional_keys_are_none_and_zero_values_default() -> None:
    c = structure(BASE, Computation)
    assert (c.end_status, c.exit_code, c.has_results, c.data_assets) == (None, None, None, None)
    assert (c.name, c.run_time) == ("", 0)  # zero values a Go server may leave out


def test_booleans_stay_booleans() -> None:
    c = structure({**BASE, "has_results": False}, Computation)
    assert c.has_results is False
    with pytest.raises(ValueError, match=r"\$\.has_results"):
        structure({**BASE, "has_results": "false"}, Computation)
    with pytest.raises(ValueError, match=r"\$\.has_results"):
        structure({**BASE, "has_results": 0}, Computation)


def test_a_string_is_not_a_list() -> None:
    with pytest.raises(ValueError, match=r"\$\.tags"):
        structure({"id": "c", "name": "n", "created": 1, "tags": "abc"}, Capsule)


def test_errors_name_every_failing_field_path() -> None:
    with pytest.raises(ValueError) as info:
        structure([BASE, {"id": "x", "created": True, "state": 5}], list[Computation])
    message = str(info.value)
    assert "$[1].created" in message
    assert "$[1].state" in message
    assert "$[0]" not in message


def test_required_keys_missing() -> None:
    with pytest.raises(ValueError, match=r"required field missing @ \$\.state"):
        structure({"id": "k", "created": 1}, Computation)


# --- outcome -----------------------------------------------------------------------------------


def _finished(**fields: Any) -> Computation:
    return structure({**BASE, "state": "completed", **fields}, Computation)


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"end_status": "succeeded", "exit_code": 0, "has_results": True}, Outcome.SUCCEEDED),
        ({"end_status": "succeeded", "has_results": True}, Outcome.SUCCEEDED),
        ({"end_status": "succeeded", "exit_code": 3, "has_results": True}, Outcome.FAILED),
        ({"end_status": "failed", "exit_code": 1, "has_results": True}, Outcome.FAILED),
        ({"end_status": "failed", "exit_code": 0, "has_results": False}, Outcome.FAILED_START),
        ({"end_status": "failed", "has_results": False}, Outcome.FAILED_START),
        ({"end_status": "failed"}, Outcome.FAILED_START),
        ({"end_status": "failed", "exit_code": 0, "has_results": True}, Outcome.FAILED),
        ({"end_status": "stopped", "has_results": True}, Outcome.STOPPED),
        ({"end_status": "timed_out"}, Outcome.FAILED),  # unknown: never success
        ({"state": "failed"}, Outcome.FAILED),
        ({"state": "failed", "end_status": "succeeded", "exit_code": 0}, Outcome.FAILED),
        ({"state": "running"}, Outcome.NOT_FINISHED),
        ({"state": "finalizing", "end_status": "succeeded"}, Outcome.NOT_FINISHED),
    ],
)
def test_outcome_verdict(fields: dict[str, Any], outcome: Outcome) -> None:
    c = _finished(**fields)
    assert c.outcome is outcome
    assert c.finished is (outcome is not Outcome.NOT_FINISHED)


# --- run requests ------------------------------------------------------------------------------


def test_run_body_omits_unset_fields_and_sends_data_assets_as_an_array() -> None:
    params = RunParams(capsule_id="cap", data_assets=[DataAssetsRunParam("a1", mount="in"), "a2"])
    assert unstructure(params) == {
        "capsule_id": "cap",
        "data_assets": [{"id": "a1", "mount": "in"}, {"id": "a2"}],
    }
    assert unstructure(RunParams(capsule_id="cap", version=3)) == {
        "capsule_id": "cap",
        "version": 3,
    }


def test_pipeline_body() -> None:
    params = RunParams(
        pipeline_id="pipe",
        nextflow_profile="local",
        processes=[
            PipelineProcessParams("sort", parameters=["1"], named_parameters={"n": "4"}),
            PipelineProcessParams("qc"),
        ],
    )
    assert unstructure(params) == {
        "pipeline_id": "pipe",
        "nextflow_profile": "local",
        "processes": [
            {
                "name": "sort",
                "parameters": ["1"],
                "named_parameters": [{"param_name": "n", "value": "4"}],
            },
            {"name": "qc"},
        ],
    }


def test_run_params_round_trip_through_json() -> None:
    params = RunParams(
        capsule_id="cap",
        version=2,
        resume_run_id="prev",
        data_assets=[DataAssetsRunParam("a1", mount="in")],
        parameters=["x", "y"],
        named_parameters=[NamedRunParam("t", "0.5")],
    )
    text = to_json(params)
    assert json.loads(text)["named_parameters"] == [{"param_name": "t", "value": "0.5"}]
    assert from_json(RunParams, text) == params
    assert from_json(RunParams, text.encode()) == params


def test_run_params_from_json_refuses_typos_and_bad_json() -> None:
    with pytest.raises(ValueError, match="capsule-id"):
        from_json(RunParams, '{"capsule-id": "x"}')
    with pytest.raises(ValueError, match="not valid JSON"):
        from_json(RunParams, "{")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of capsule_id and pipeline_id"),
        ({"capsule_id": "a", "pipeline_id": "b"}, "exactly one of capsule_id and pipeline_id"),
        ({"capsule_id": "a", "processes": [PipelineProcessParams("p")]}, "pipeline runs"),
        ({"capsule_id": "a", "version": 0}, "version"),
        ({"capsule_id": "a", "version": True}, "version"),
    ],
)
def test_run_params_refuses_bad_combinations(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RunParams(**kwargs)


def test_single_values_where_lists_belong_are_refused() -> None:
    with pytest.raises(TypeError, match="list"):
        RunParams(capsule_id="a", data_assets="asset-id")
    with pytest.raises(TypeError, match="list"):
        RunParams(capsule_id="a", parameters="x")


@pytest.mark.parametrize(
    ("value", "cls", "expected"),
    [
        ("123", int, 123),
        (" 7 ", int, 7),
        (2, float, 2.0),
        (2.5, float, 2.5),
        (7607289, str, "7607289"),  # the seed types slug as an integer
        ("x", str, "x"),
        (True, bool, True),
    ],
)
def test_scalar_rules(value: Any, cls: type[Any], expected: Any) -> None:
    result = structure(value, cls)
    assert result == expected
    assert type(result) is cls


@pytest.mark.parametrize(
    ("value", "cls"),
    [
        (True, int),
        ("many", int),
        (float("nan"), int),
        (float("inf"), int),
        ([1], int),
        (True, float),
        ("1.5", float),
        (True, str),
        (["x"], str),
        ({"a": 1}, str),
        (1, bool),
        ("true", bool),
        (5, ComputationState),
        ({"id": "c"}, list[Computation]),
    ],
)
def test_scalar_rules_refuse(value: Any, cls: type[Any]) -> None:
    with pytest.raises(ValueError, match="did not fit"):
        structure(value, cls)


def test_response_models_round_trip_with_enums_as_strings() -> None:
    data = {**load_fixture("computation_current.json"), "state": "paused"}
    computation = structure(data, Computation)
    text = to_json(computation)
    assert json.loads(text)["state"] == "paused"
    assert json.loads(text)["end_status"] == "succeeded"
    assert from_json(Computation, text) == computation
    capsule = structure(load_fixture("capsule_current.json"), Capsule)
    assert json.loads(to_json(capsule))["status"] == "release"
    assert from_json(Capsule, to_json(capsule)) == capsule


def test_null_for_a_field_with_a_default_means_unset() -> None:
    c = structure({**BASE, "name": None, "run_time": None}, Computation)
    assert (c.name, c.run_time) == ("", 0)
    version = structure({"major_version": 2, "minor_version": None}, Version)
    assert version.minor_version == 0


def test_error_paths_name_the_index_inside_lists() -> None:
    data = {
        **BASE,
        "processes": [{"name": "a"}, {"name": "b", "parameters": [{"value": 5}, {"value": []}]}],
    }
    with pytest.raises(ValueError) as info:
        structure(data, Computation)
    assert "$.processes[1].parameters[1].value" in str(info.value)
