"""One format for a run spec (issue 8, item 9): the JSON lines of run-many take every form the
Python API takes, and say which line and field is wrong in plain words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import codeocean_async as co

README_FORM = co.RunParams(
    capsule_id="cap-1",
    data_assets=[
        co.DataAssetsRunParam("bf8cf993-a583-495c-bebd-2f38f81d1ea1", mount="Alignment"),
        "asset-2",
        "asset-3:in",
        {"id": "asset-4", "mount": "data"},
        {"id": "asset-5"},
    ],
    named_parameters={"threshold": "0.5"},
)


def test_json_lines_take_every_form_the_python_api_takes(tmp_path: Path) -> None:
    path = tmp_path / "specs.jsonl"
    path.write_text(
        '{"capsule_id": "cap-1", "named_parameters": {"threshold": "0.5"}, "data_assets": ['
        '{"id": "bf8cf993-a583-495c-bebd-2f38f81d1ea1", "mount": "Alignment"}, "asset-2", '
        '"asset-3:in", {"id": "asset-4", "mount": "data"}, {"id": "asset-5"}]}\n'
        '{"capsule_id": "cap-1", "named_parameters": [{"param_name": "threshold", "value": "0.5"}]'
        ', "data_assets": ["bf8cf993-a583-495c-bebd-2f38f81d1ea1:Alignment", "asset-2", '
        '"asset-3:in", "asset-4:data", "asset-5"]}\n'
    )
    assert co.read_specs(path) == [README_FORM, README_FORM]
    co.write_specs(path, [README_FORM])
    assert co.read_specs(path) == [README_FORM]  # and it round-trips


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"capsule": "x"}', r"line 2: the spec has an unknown field 'capsule' \(a run spec has "),
        (
            '{"capsule_id": "c", "named_parameters": [{"param_name": "n", "value": 1}]}',
            r"line 2: named_parameters\[0\]\.value must be a string, not int",
        ),
        (
            '{"capsule_id": "c", "named_parameters": {"n": 1}}',
            r"line 2: named_parameters\['n'\]: value must be a string, not int",
        ),
        ('{"capsule_id": "c", "data_assets": [{"id": "a", "mnt": "x"}]}', "unknown field 'mnt'"),
        (
            '{"capsule_id": "c", "data_assets": [3]}',
            r"data_assets\[0\] must be \"ID\", \"ID:MOUNT\"",
        ),
        ('{"capsule_id": "c", "data_assets": "a"}', "data_assets takes a list"),
        (
            '{"capsule_id": "c", "data_assets": ["a:"]}',
            r"data_assets\[0\]\.mount must not be empty",
        ),
        ('{"capsule_id": "c", "parameters": [1]}', r"parameters\[0\] must be a string, not int"),
        ('{"capsule_id": "c", "version": NaN}', "version must be a whole number >= 1, not nan"),
        ('{"capsule_id": "c", "version": 2.5}', "version must be a whole number"),
        (
            '{"pipeline_id": "p", "processes": [{"parameters": []}]}',
            r"processes\[0\] has no 'name'",
        ),
        ("[1, 2]", "line 2: a run spec is a JSON object, not a list"),
    ],
)
def test_a_bad_line_is_named_with_its_field_in_plain_words(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "specs.jsonl"
    path.write_text('{"capsule_id": "ok"}\n' + line + "\n")
    with pytest.raises(ValueError, match=message) as info:
        co.read_specs(path)
    assert "@ $" not in str(info.value)
    assert "object has no attribute" not in str(info.value)


def test_bad_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "specs.jsonl"
    path.write_bytes(b'{"capsule_id": "ok"}\n{"capsule_id": "ok"}\n{"capsule_id": "\xff"}\n')
    with pytest.raises(ValueError, match=r"specs\.jsonl, line 3: not UTF-8"):
        co.read_specs(path)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"data_assets": [{"id": "a", "mount": "m"}]}, None, ""),
        ({"data_assets": [3]}, TypeError, r"data_assets\[0\] must be \"ID\", \"ID:MOUNT\", "),
        ({"data_assets": [{"ID": "a"}]}, ValueError, "unknown field 'ID'"),
        ({"parameters": [["x"]]}, TypeError, r"parameters\[0\] must be a string, not list"),
        ({"named_parameters": [("n", "v")]}, TypeError, r"named_parameters\[0\] must be"),
        ({"named_parameters": {"n": 2}}, TypeError, "value must be a string"),
        ({"version": 1.0}, ValueError, "version must be a whole number"),
        ({"capsule_id": 5}, TypeError, "capsule_id must be a string"),
        ({"capsule_id": "a/b"}, ValueError, "capsule_id contains"),
    ],
)
def test_run_params_checks_its_own_fields(
    kwargs: dict[str, Any], error: type[Exception] | None, message: str
) -> None:
    kwargs = {"capsule_id": "c", **kwargs}
    if error is None:
        params = co.RunParams(**kwargs)
        assert params.data_assets == (co.DataAssetsRunParam("a", mount="m"),)
        assert hash(params)
        return
    with pytest.raises(error, match=message):
        co.RunParams(**kwargs)
    with pytest.raises(ValueError, match=message):  # the same check from JSON
        co.from_json(co.RunParams, __import__("json").dumps(kwargs, default=list))


def test_check_run_ids_is_still_importable() -> None:
    from codeocean_async.resources.computations import check_run_ids

    check_run_ids(co.RunParams(capsule_id="c"))
