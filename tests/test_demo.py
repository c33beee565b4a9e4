"""The demo's main job: capsule metadata, three run variants, live waits, the computation list."""

from __future__ import annotations

import io

import pytest

import codeocean_async as co
from codeocean_async._demo import main, main_job
from codeocean_async.testing import FakeCodeOcean

SEED_CAPSULE = "4bc97533-6eb4-48ac-966f-648548a756d2"
SEED_ASSET = "bf8cf993-a583-495c-bebd-2f38f81d1ea1"


@pytest.mark.anyio
async def test_main_job_runs_the_three_variants_and_waits(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    codeocean_fake.add_capsule(
        id=SEED_CAPSULE, name="deepTools", versions=(1, 2), run_durations=(0, 0, 0)
    )
    codeocean_fake.add_data_asset(id=SEED_ASSET, mount="Alignment")
    out = io.StringIO()
    assert await main_job(client, SEED_CAPSULE, data_asset_id=SEED_ASSET, out=out) == 0
    bodies = [r.body for r in codeocean_fake.requests if r.method == "POST"]
    assert bodies == [
        {"capsule_id": SEED_CAPSULE},
        {"capsule_id": SEED_CAPSULE, "version": 2},
        {"capsule_id": SEED_CAPSULE, "data_assets": [{"id": SEED_ASSET}]},
    ]
    text = out.getvalue()
    assert "Capsule 'deepTools'" in text
    assert text.count("succeeded  (end status succeeded") == 3
    assert "The capsule's computations (3):" in text


@pytest.mark.anyio
async def test_main_job_reports_failure_and_skips_what_it_cannot_run(
    client: co.AsyncCodeOcean, codeocean_fake: FakeCodeOcean
) -> None:
    capsule = codeocean_fake.add_capsule(run_outcome="failed", run_durations=(0, 0, 0))["id"]
    out = io.StringIO()
    assert await main_job(client, capsule, data_asset_id=None, out=out) == 1
    text = out.getvalue()
    assert "skipping the versioned run" in text
    assert "skipping the run with data assets" in text
    assert "plain  failed" in text


def test_demo_against_the_embedded_fake_over_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEOCEAN_DOMAIN", raising=False)
    monkeypatch.delenv("CODEOCEAN_API_TOKEN", raising=False)
    out = io.StringIO()
    assert main(out) == 0
    text = out.getvalue()
    assert "the embedded fake at http://127.0.0.1:" in text
    for state in ("initializing", "running", "finalizing", "completed"):
        assert text.count(f"  {state}\n") == 3, state
    assert "version 2" in text
    assert "data assets" in text
