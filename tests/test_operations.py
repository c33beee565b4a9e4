"""The table of operations: all 48 of the official SDK 0.17, each with the server version it
needs, and every request sending that version as ``Min-Server-Version``."""

from __future__ import annotations

import pytest

from codeocean_async._operations import OPERATIONS, Operation, operation, version_tuple


def test_the_table_holds_the_48_operations_of_the_official_sdk_each_once() -> None:
    assert len(OPERATIONS) == 48
    assert len({(op.method, op.path) for op in OPERATIONS.values()}) == 48
    assert len({op.official for op in OPERATIONS.values()}) == 48


def test_each_pipeline_twin_needs_the_pipelines_era_at_least() -> None:
    for name, op in OPERATIONS.items():
        if name.startswith("pipelines."):
            twin = OPERATIONS["capsules." + name.removeprefix("pipelines.")]
            mine = twin.path.replace("capsules/{capsule_id}", "pipelines/{pipeline_id}")
            assert op.path == mine.replace("capsules/search", "pipelines/search")
            assert op.path.startswith("pipelines/")
            assert version_tuple(op.min_version) >= (4, 1, 0)
            assert version_tuple(op.min_version) >= version_tuple(twin.min_version)


@pytest.mark.parametrize(
    ("name", "version"),
    [
        ("capsules.get", "2.18.0"),
        ("capsules.search", "3.1.0"),
        ("capsules.get_app_panel", "3.9.0"),
        ("computations.get_result_file_urls", "4.0.0"),
        ("computations.attach_data_assets", "4.2.0"),
        ("data_assets.get_permissions", "4.3.0"),
        ("capsules.sync", "4.6.0"),
        ("capsules.release", "4.8.0"),
        ("pipelines.get_release_job", "4.8.0"),
        ("custom_metadata.get", "3.9.0"),
    ],
)
def test_versions_follow_the_history_of_the_surface(name: str, version: str) -> None:
    assert operation(name).min_version == version


def test_a_request_needing_a_later_field_asks_for_its_version() -> None:
    run = operation("computations.run")
    assert run.needing("4.1.0").min_version == "4.1.0"
    assert run.needing("2.0.0") is run
    assert run.min_version == "2.18.0"


def test_a_typo_in_the_table_fails_at_once() -> None:
    with pytest.raises(ValueError, match="not a version"):
        Operation("x.y", "GET", "x", "4.8", "x.y").needing("four")
    with pytest.raises(ValueError, match="not a version"):
        Operation("x.y", "GET", "x", "4.8.x", "x.y")
    with pytest.raises(KeyError, match=r"no operation 'capsules\.nope'"):
        operation("capsules.nope")
