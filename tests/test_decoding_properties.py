"""Decoding never surprises: any body gives a model or a ResponseValidationError naming a path."""

from __future__ import annotations

import enum
import json
import typing
from typing import Any

import attrs
import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from codeocean_async import (
    Capsule,
    Computation,
    ComputationEndStatus,
    ComputationState,
    DataAssetsRunParam,
    InputDataAsset,
    NamedRunParam,
    Outcome,
    Param,
    PipelineProcess,
    PipelineProcessParams,
    ResponseValidationError,
    RunParams,
    Version,
    from_json,
    to_json,
)
from codeocean_async._ids import check_id
from codeocean_async._wire import decode as _decode

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Every response type the client decodes, through the real decode path.
RESPONSE_TYPES: list[Any] = [
    Capsule,
    Computation,
    list[Computation],
    Version,
    InputDataAsset,
    Param,
    PipelineProcess,
]

_MODELS: tuple[type[Any], ...] = (
    Capsule,
    Computation,
    Version,
    InputDataAsset,
    Param,
    PipelineProcess,
    RunParams,
)
_MODELS += (DataAssetsRunParam, NamedRunParam, PipelineProcessParams)
#: Keys the models know (and the legacy ones the converter renames), so that random objects
#: often hit real fields instead of being ignored wholesale.
KNOWN_KEYS = sorted(
    {f.name for cls in _MODELS for f in attrs.fields(cls)} | {"keywords", "published_capsule"}
)

STATES = [s.value for s in ComputationState]
END_STATUSES = [s.value for s in ComputationEndStatus]

# --- strategies --------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=10**40)  # the odd big int
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(STATES + END_STATUSES + ["published", "release", "non-published"])
)
keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=25,
)


def plausible(tp: Any) -> st.SearchStrategy[Any]:
    """JSON that fits type ``tp`` as the API would send it (a model: its dict)."""
    args = typing.get_args(tp)
    if type(None) in args:
        return st.none() | plausible(next(a for a in args if a is not type(None)))
    if typing.get_origin(tp) in (tuple, list):
        return st.lists(plausible(args[0]), max_size=3)
    if attrs.has(tp):
        return model_shaped(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return st.sampled_from([m.value for m in tp]) | st.text(max_size=10)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=20),
        bool: st.booleans(),
        int: st.integers() | st.floats(min_value=-1e15, max_value=1e15),
    }
    return simple[tp]


@st.composite
def model_shaped(draw: st.DrawFn, cls: type[Any]) -> dict[str, Any]:
    """An object shaped like ``cls``: its keys with values that fit or are arbitrary JSON, plus
    strangers. Half the time it is nearly right (required keys present, about one value
    arbitrary), so the decoding path is exercised as much as the refusing one."""
    hints = typing.get_type_hints(cls)
    fields = attrs.fields(cls)
    nearly_right = draw(st.booleans())
    result: dict[str, Any] = draw(st.dictionaries(keys, json_values, max_size=3))
    for field in fields:
        required = field.default is attrs.NOTHING
        if not draw(st.booleans()) and not (nearly_right and required):
            result.pop(field.name, None)
            continue
        one_in = len(fields) + 1 if nearly_right else 2
        arbitrary = draw(st.integers(1, one_in)) == 1
        result[field.name] = draw(json_values if arbitrary else plausible(hints[field.name]))
    return result


def arbitrary_json_for(cls: Any) -> st.SearchStrategy[Any]:
    if cls == list[Computation]:
        return json_values | st.lists(model_shaped(Computation), max_size=3)
    return st.one_of(json_values, model_shaped(cls), model_shaped(cls))


def _response(content: bytes) -> httpx.Response:
    return httpx.Response(200, content=content, request=httpx.Request("GET", "https://x/api/v1/y"))


def decode(content: bytes, cls: Any) -> Any:
    return _decode(_response(content), cls)


def assert_decodes_or_names_paths(content: bytes, cls: Any) -> Any:
    """The property: a model of the asked type, or a ResponseValidationError naming paths."""
    refused: ResponseValidationError | None = None
    try:
        result = decode(content, cls)
    except ResponseValidationError as exc:
        refused = exc
    if refused is not None:
        assert refused.errors, f"no errors listed: {refused}"
        for error in refused.errors:
            assert " @ $" in error, error
        assert str(refused)
        return None
    if cls == list[Computation]:
        assert isinstance(result, list)
        assert all(isinstance(item, Computation) for item in result)
        for item in result:
            assert isinstance(item.outcome, Outcome)
    else:
        assert isinstance(result, cls)
    if isinstance(result, Computation):
        assert isinstance(result.outcome, Outcome)
        assert isinstance(result.finished, bool)
    if isinstance(result, Capsule):
        latest = result.latest_version
        assert latest is None or isinstance(latest, Version)
    return result


# --- arbitrary JSON ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", RESPONSE_TYPES, ids=str)
@SETTINGS
@given(data=st.data())
def test_any_json_decodes_or_raises_response_validation_error(cls: Any, data: st.DataObject):
    value = data.draw(arbitrary_json_for(cls))
    assert_decodes_or_names_paths(json.dumps(value).encode(), cls)


@pytest.mark.parametrize("cls", RESPONSE_TYPES, ids=str)
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_python_accepts_as_json_are_handled(cls: Any, token: str):
    # json.loads reads these tokens, so a body may hold them wherever a number is expected.
    for field in ("created", "major_version", "version", "exit_code", "run_time", "id", "name"):
        body = f'{{"id": "c", "name": "n", "created": 1, "state": "running", "{field}": {token}}}'
        assert_decodes_or_names_paths(body.encode(), cls)
    assert_decodes_or_names_paths(f"[{token}]".encode(), cls)


@pytest.mark.parametrize("value", [[1], "abc", 5, None, True, {"id": "c"}, [{"id": "c"}]])
def test_a_list_that_is_not_a_list_of_computations_is_refused(value: Any):
    with pytest.raises(ResponseValidationError) as info:
        decode(json.dumps(value).encode(), list[Computation])
    assert all(" @ $" in e for e in info.value.errors)


@pytest.mark.parametrize("value", ["", {}], ids=["empty-string", "empty-object"])
def test_an_empty_string_or_object_is_not_an_empty_list_of_computations(value: Any):
    # A body of "" or {} where the API promises a list is a broken answer, not "no runs".
    with pytest.raises(ResponseValidationError):
        decode(json.dumps(value).encode(), list[Computation])


# --- not JSON at all ---------------------------------------------------------------------------


def _is_json(content: bytes) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


@SETTINGS
@given(content=st.binary(max_size=200))
@example(content=b"")
@example(content=b"<html><body><h1>502 Bad Gateway</h1></body></html>")
@example(content=b'{"id": "c", "created": 1, "state": "runn')
@example(content=b"\xff\xfe\x00garbage")
@example(content=b"\x00")
@example(content=b"{'id': 'single quotes'}")
def test_bytes_that_are_not_json_raise_response_validation_error(content: bytes):
    for cls in RESPONSE_TYPES:
        if _is_json(content):
            assert_decodes_or_names_paths(content, cls)
            continue
        with pytest.raises(ResponseValidationError) as info:
            decode(content, cls)
        assert info.value.errors == ("not JSON @ $",)
        assert "not JSON" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000, b"[" * 5_000 + b"]" * 5_000, b'{"a":' * 5_000 + b"1" + b"}" * 5_000],
    ids=["unclosed", "deep-list", "deep-object"],
)
def test_deeply_nested_bodies_raise_response_validation_error(content: bytes):
    # json.loads raises RecursionError, not ValueError, past its nesting limit.
    with pytest.raises(ResponseValidationError):
        decode(content, Computation)
    with pytest.raises(ValueError):
        from_json(RunParams, content)


# --- payloads shaped like a Computation --------------------------------------------------------


def _usable_id(text: str) -> bool:
    try:
        check_id(text, "id")
    except ValueError:
        return False
    return True


any_ids = st.text(min_size=1, max_size=40)
ids = any_ids.filter(_usable_id)  # what the server may send back as an ID that goes into a URL
maybe_text = st.none() | st.text(max_size=20)
state_strings = st.sampled_from(STATES) | st.text(max_size=15)
end_status_strings = st.sampled_from(END_STATUSES) | st.text(max_size=15)
times = st.integers(min_value=0, max_value=2**41) | st.floats(
    min_value=0, max_value=2.0**41, allow_nan=False, allow_infinity=False
)
params = st.fixed_dictionaries(
    {}, optional={"name": maybe_text, "param_name": maybe_text, "value": maybe_text}
)
processes = st.fixed_dictionaries(
    {"name": st.text(max_size=20)},
    optional={
        "capsule_id": maybe_text,
        "version": st.none() | st.integers(),
        "public": st.none() | st.booleans(),
        "parameters": st.none() | st.lists(params, max_size=3),
    },
)
COMPUTATION_FIELDS = {f.name for f in attrs.fields(Computation)}
computation_payloads = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {"id": ids, "created": times, "state": state_strings},
        optional={
            "name": st.text(max_size=20),
            "run_time": st.integers(min_value=0) | st.floats(min_value=0, max_value=1e9),
            "owner": maybe_text,
            "owner_email": maybe_text,
            "end_status": st.none() | end_status_strings,
            "exit_code": st.none() | st.integers(min_value=-(2**31), max_value=2**31),
            "has_results": st.none() | st.booleans(),
            "cloud_workstation": st.none() | st.booleans(),
            "data_assets": st.none()
            | st.lists(
                st.fixed_dictionaries({"id": ids}, optional={"mount": maybe_text}), max_size=3
            ),
            "parameters": st.none() | st.lists(params, max_size=3),
            "nextflow_profile": maybe_text,
            "processes": st.none() | st.lists(processes, max_size=2),
        },
    ),
    st.dictionaries(
        st.text(max_size=12).filter(lambda k: k not in COMPUTATION_FIELDS),
        json_values,
        max_size=4,
    ),
)


def _check_computation(c: Computation, raw: dict[str, Any]) -> None:
    assert c.id == raw["id"]
    assert c.created == int(raw["created"])
    assert str(c.state) == raw["state"]
    assert c.state == raw["state"]
    assert c.state.known == (raw["state"] in STATES)
    end = raw.get("end_status")
    if end is None:
        assert c.end_status is None
    else:
        assert c.end_status is not None
        assert str(c.end_status) == end
        assert c.end_status.known == (end in END_STATUSES)
    outcome = c.outcome  # never raises
    assert isinstance(outcome, Outcome)
    if not c.state.known:
        assert outcome is Outcome.NOT_FINISHED  # an unknown state is never terminal
    if end is not None and end not in END_STATUSES and c.state.known and c.finished:
        assert outcome is Outcome.FAILED  # an unknown end status is never success
    assert c.name == raw.get("name", "")
    assert c.owner == raw.get("owner")
    assert c.exit_code == raw.get("exit_code")


@SETTINGS
@given(raw=computation_payloads)
def test_computation_shaped_payloads_always_decode(raw: dict[str, Any]):
    c = decode(json.dumps(raw).encode(), Computation)
    assert isinstance(c, Computation)
    _check_computation(c, raw)


@SETTINGS
@given(raws=st.lists(computation_payloads, max_size=4))
def test_lists_of_computation_shaped_payloads_always_decode(raws: list[dict[str, Any]]):
    decoded = decode(json.dumps(raws).encode(), list[Computation])
    assert len(decoded) == len(raws)
    for c, raw in zip(decoded, raws, strict=True):
        _check_computation(c, raw)


@SETTINGS
@given(raw=computation_payloads, bad=any_ids.filter(lambda t: not _usable_id(t)))
def test_a_computation_id_unfit_for_a_url_is_a_validation_error(raw: dict[str, Any], bad: str):
    with pytest.raises(ResponseValidationError) as info:
        decode(json.dumps({**raw, "id": bad}).encode(), Computation)
    assert info.value.errors[0].endswith("@ $.id")
    with pytest.raises(ResponseValidationError) as listed:
        decode(json.dumps([raw, {**raw, "id": bad}]).encode(), list[Computation])
    assert listed.value.errors[0].endswith("@ $[1].id")


@SETTINGS
@given(raw=computation_payloads, cut=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_a_truncated_computation_body_is_not_json(raw: dict[str, Any], cut: float):
    content = json.dumps(raw).encode()
    truncated = content[: int(len(content) * cut)]
    with pytest.raises(ResponseValidationError) as info:
        decode(truncated, Computation)
    assert info.value.errors == ("not JSON @ $",)


# --- RunParams through JSON --------------------------------------------------------------------

texts = st.text(max_size=20)
data_assets = st.builds(DataAssetsRunParam, ids, mount=st.none() | texts.filter(str.strip))
named = st.builds(NamedRunParam, texts, texts)
common_run_fields: dict[str, Any] = {
    "version": st.none() | st.integers(min_value=1, max_value=10**12),
    "resume_run_id": st.none() | ids,
    "nextflow_profile": st.none() | texts,
    "data_assets": st.none() | st.lists(data_assets, max_size=3),
    "parameters": st.none() | st.lists(texts, max_size=3),
    "named_parameters": st.none() | st.lists(named, max_size=3),
}
process_params = st.builds(
    PipelineProcessParams,
    texts,
    parameters=st.none() | st.lists(texts, max_size=3),
    named_parameters=st.none() | st.lists(named, max_size=3),
)
run_params = st.builds(RunParams, capsule_id=ids, **common_run_fields) | st.builds(
    RunParams,
    pipeline_id=ids,
    processes=st.none() | st.lists(process_params, max_size=2),
    **common_run_fields,
)


@SETTINGS
@given(params=run_params)
def test_run_params_round_trip_through_json(params: RunParams):
    text = to_json(params)
    assert from_json(RunParams, text) == params
    assert from_json(RunParams, text.encode()) == params
    assert not _has_null(json.loads(text))  # unset fields are left out, never sent as null


def _has_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(_has_null(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_null(v) for v in value)
    return False


def run_params_shaped() -> st.SearchStrategy[Any]:
    fields = {f.name: json_values for f in attrs.fields(RunParams)}
    return st.fixed_dictionaries({}, optional=fields) | json_values


@SETTINGS
@given(value=run_params_shaped())
def test_from_json_of_any_json_gives_run_params_or_value_error(value: Any):
    try:
        result = from_json(RunParams, json.dumps(value))
    except ValueError:
        return
    assert isinstance(result, RunParams)
    assert isinstance(result.target_id, str)
    assert from_json(RunParams, to_json(result)) == result


@SETTINGS
@given(text=st.text(max_size=100))
def test_from_json_of_any_text_gives_run_params_or_value_error(text: str):
    try:
        result = from_json(RunParams, text)
    except ValueError:
        return
    assert isinstance(result, RunParams)


@pytest.mark.parametrize("version", ["2.9", '"3"', "true"])
def test_from_json_refuses_a_version_that_is_not_a_whole_number(version: str):
    # Request models are strict: 2.9 must not quietly run released version 2.
    with pytest.raises(ValueError, match="version"):
        from_json(RunParams, f'{{"capsule_id": "c", "version": {version}}}')
