"""What a stopped CLI command says it leaves behind, and the signal plumbing, in process."""

from __future__ import annotations

import io
import json
import logging
import signal
import sys
import time

import anyio
import httpx
import pytest

from codeocean_async import AsyncCodeOcean, LaunchUncertainError, RunParams, cli
from codeocean_async._cli_output import Output
from codeocean_async._cli_stop import BatchRecord, Known, stop_summary, until_stopped
from codeocean_async._converter import structure
from codeocean_async.models import (
    BatchCancelled,
    Computation,
    Event,
    Launched,
    LaunchFailed,
    Relaunched,
)
from codeocean_async.testing import FakeCodeOcean, Fault, ManualClock

from .conftest import FAST_POLL

PROG = "codeocean-async"


def computation(state: str, **fields: object) -> Computation:
    return structure({"id": "c-1", "created": 1, "state": state, **fields}, Computation)


def test_nothing_started_says_nothing_more() -> None:
    assert stop_summary(Known(), PROG) == (None, None)


def test_a_wait_with_no_state_seen_yet_still_names_the_computation() -> None:
    line, doc = stop_summary(Known(waiting_on="c-9"), PROG)
    assert (
        line
        == f"computation c-9 keeps running (no state seen yet); follow it with `{PROG} wait c-9`"
    )
    assert doc == {"id": "c-9", "state": None}


def test_a_run_seen_finished_is_not_said_to_keep_running() -> None:
    done = computation("completed", end_status="succeeded", exit_code=0)
    line, doc = stop_summary(Known(started=computation("initializing"), last_seen=done), PROG)
    assert line == "computation c-1 was started and finished: succeeded"
    assert doc is done


def test_a_pipeline_run_on_its_way_names_the_pipeline_listing() -> None:
    line, doc = stop_summary(Known(launching=RunParams(pipeline_id="p-1")), PROG)
    assert line is not None
    assert line.endswith(f"check `{PROG} computations list p-1 --pipeline`")
    assert doc["spec"] == {"pipeline_id": "p-1"}


def test_the_json_document_is_printed_once() -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = Output(out, err, json_mode=True)
    ui.known.started = computation("running")
    ui.document(ui.known.started)
    ui.stopped(143)
    assert json.loads(out.getvalue())["id"] == "c-1"  # one document, not two
    assert err.getvalue().startswith(f"{PROG}: terminated: computation c-1 was started")


def test_a_stopped_batch_documents_each_spec_from_its_events() -> None:
    specs = [RunParams(capsule_id=f"cap-{i}") for i in range(5)]
    record = BatchRecord(specs, PROG)
    request = httpx.Request("POST", "https://a.b/api/v1/computations")
    failed_start = computation("completed", end_status="failed", id="c-0")
    events: list[Event] = [
        Launched(index=0, computation=failed_start),
        Relaunched(index=0, previous=failed_start, computation=computation("running", id="c-1")),
        LaunchFailed(
            index=1,
            error=LaunchUncertainError("x", request=request, sent_at=0),
            uncertain=True,
        ),
        BatchCancelled(started={0: ("c-0", "c-1"), 2: ("c-2",)}, in_flight=(3,), not_sent=()),
    ]
    for event in events:
        record.add(event)
    docs = record.document()
    assert [d["index"] for d in docs] == [0, 1, 2, 3, 4]
    assert (docs[0]["computation"]["id"], docs[0]["attempts"]) == ("c-1", ["c-0", "c-1"])
    assert docs[0]["computation"]["outcome"] == "not_finished"
    assert (docs[1]["uncertain"], docs[1]["in_flight"], docs[1]["computation"]) == (
        True,
        False,
        None,
    )
    assert docs[1]["error"].startswith("the run request may or may not have started")
    # Started, its Launched event not seen: its ID still named.
    assert (docs[2]["computation"], docs[2]["attempts"]) == ({"id": "c-2", "state": None}, ["c-2"])
    assert (docs[3]["uncertain"], docs[3]["in_flight"]) == (True, True)
    assert docs[3]["error"].endswith(f"check `{PROG} computations list cap-3`")
    assert docs[4]["error"].startswith("not known")  # in none of the event's lists
    assert stop_summary(Known(batch=record), PROG) == (None, docs)


def test_a_batch_already_documented_is_not_documented_again() -> None:
    out, err = io.StringIO(), io.StringIO()
    ui = Output(out, err, json_mode=True)
    ui.known.batch = BatchRecord([RunParams(capsule_id="cap-1")], PROG)
    ui.batch([])
    ui.stopped(130)
    assert json.loads(out.getvalue()) == []  # one document, not two
    assert err.getvalue() == f"{PROG}: interrupted\n"


def test_uncertain_with_candidates_names_them_and_no_flag_when_reconciled() -> None:
    request = httpx.Request("POST", "https://a.b/api/v1/computations")
    first = LaunchUncertainError("pass on_uncertain='reconcile'", request=request, sent_at=0)
    exc = LaunchUncertainError(
        "x",
        request=request,
        sent_at=0,
        candidates=(computation("running"), computation("running", id="c-2")),
    )
    first.__cause__ = httpx.ReadTimeout("timed out")
    exc.__cause__ = first
    out, err = io.StringIO(), io.StringIO()
    ui = Output(out, err, json_mode=False)
    ui.reconciling = True
    ui.uncertain(RunParams(capsule_id="cap-1"), exc)
    assert out.getvalue() == ""
    assert err.getvalue() == (
        f"{PROG}: error: the run request may have started one of these computations: c-1, c-2 "
        f"(timed out); it was not resent: check `{PROG} computations list cap-1` before running "
        "it again\n"
    )


@pytest.mark.anyio
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
async def test_until_stopped_cancels_on_a_signal(sig: signal.Signals, code: int) -> None:
    if sys.platform == "win32":
        pytest.skip("no POSIX signals")
    reached: list[str] = []

    async def command() -> int:
        signal.raise_signal(sig)  # the receiver is installed before the command starts
        await anyio.sleep(30)
        reached.append("the end")
        return 0

    with anyio.fail_after(10):
        assert await until_stopped(command) == (None, code)
    assert reached == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers are given back


@pytest.mark.anyio
async def test_until_stopped_returns_the_result_and_raises_errors_as_they_are() -> None:
    async def ok() -> int:
        return 7

    async def broken() -> int:
        raise LookupError("no group around me")

    assert await until_stopped(ok) == (7, None)
    with pytest.raises(LookupError, match="no group"):
        await until_stopped(broken)


@pytest.mark.anyio
@pytest.mark.parametrize("reconcile", [False, True])
async def test_run_reports_an_uncertain_launch_once_with_its_own_advice(reconcile: bool) -> None:
    # A server's clock shows today: reconciling trusts a Date header only within minutes of ours.
    codeocean_fake = FakeCodeOcean(clock=ManualClock(), base_time=int(time.time()))
    codeocean_fake.add_capsule(id="cap-1")
    codeocean_fake.faults.script("POST", "/computations", Fault.drop_after())
    argv = ["run", "cap-1", "--json", *(["--on-uncertain", "reconcile"] if reconcile else [])]
    out, err = io.StringIO(), io.StringIO()
    async with AsyncCodeOcean(
        domain="http://codeocean.test",
        token=codeocean_fake.token,
        transport=codeocean_fake.transport(),
        allow_insecure_http=True,
        poll=FAST_POLL,
    ) as client:
        code = await cli.run_command(cli.build_parser().parse_args(argv), client, out=out, err=err)
    (cid,) = codeocean_fake.created_computations
    if reconcile:
        assert (code, json.loads(out.getvalue())["id"], err.getvalue()) == (0, cid, "")
    else:
        assert code == 3
        assert json.loads(out.getvalue())["uncertain"] is True
        assert err.getvalue().count("--on-uncertain reconcile") == 1


def test_main_leaves_logging_as_it_found_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CODEOCEAN_DOMAIN", "CODEOCEAN_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    loggers = [logging.getLogger(name) for name in ("codeocean_async", "stamina")]
    before = [(list(logger.handlers), logger.level) for logger in loggers]
    for argv in (["capsule", "get", "c"], ["-v", "capsule", "get", "c"], ["wait", "c", "-vv"]):
        assert cli.main(argv) == 3
    assert [(list(logger.handlers), logger.level) for logger in loggers] == before


def test_a_token_from_the_environment_that_cannot_be_sent_is_refused_unechoed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CODEOCEAN_DOMAIN", "acme.codeocean.com")
    monkeypatch.setenv("CODEOCEAN_API_TOKEN", "cop_left:cop_right")
    assert cli.main(["capsule", "get", "c"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "the token contains a ':'" in captured.err
    assert "cop_" not in captured.err
