"""run-many against the fake Code Ocean: every spec sent once, the summary, progress, exit codes."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest

from codeocean_async import (
    AsyncCodeOcean,
    Computation,
    DataAssetsRunParam,
    Finished,
    Launched,
    PollPolicy,
    Relaunched,
    RunParams,
    cli,
    from_json,
    to_json,
    write_specs,
)
from codeocean_async._cli_output import Output
from codeocean_async._cli_progress import LiveLine, PlainLines
from codeocean_async.testing import FakeCodeOcean, Fault, ManualClock, serve_in_thread

DOMAIN = "http://codeocean.test"
N = 30
DURATIONS = (0.02, 0.02, 0.02)  # real seconds: each run lands as "initializing", ends on its own
EVENT_LINE = re.compile(r"^\d\d:\d\d:\d\d  spec (\d+)  (\S+)  (.+)$")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)  # the whole of stdout is one document

    def events(self, stream: str = "out") -> list[tuple[int, str, str]]:
        """``(spec index, computation id or "-", what)`` of each event line."""
        lines = (self.out if stream == "out" else self.err).splitlines()
        return [(int(m[1]), m[2], m[3]) for m in map(EVENT_LINE.match, lines) if m]

    def table(self) -> list[list[str]]:
        """The summary's rows (after the header), split on whitespace."""
        lines = self.out.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("INDEX "))
        return [line.split() for line in lines[start + 1 :] if re.match(r"^\d+  ", line)]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


async def invoke(
    client: AsyncCodeOcean, fake: FakeCodeOcean, *argv: str, out: io.StringIO | None = None
) -> Result:
    out, err = out or io.StringIO(), io.StringIO()
    args = cli.build_parser().parse_args(list(argv))
    code = await cli.run_command(args, client, out=out, err=err)
    result = Result(code, out.getvalue(), err.getvalue())
    assert fake.token not in result.out + result.err
    assert "Traceback" not in result.err
    return result


def seeded(fake: FakeCodeOcean) -> FakeCodeOcean:
    """Capsules whose runs succeed, fail, or take long, and a data asset."""
    fake.add_capsule(id="cap-ok", versions=(1, 2), run_durations=DURATIONS)
    fake.add_capsule(id="cap-bad", run_outcome="failed", run_durations=DURATIONS)
    fake.add_capsule(id="cap-slow", run_durations=(100, 100, 100))
    fake.add_data_asset(id="da-1", mount="in")
    return fake


@pytest.fixture
def codeocean_fake() -> FakeCodeOcean:
    """The fake on real time (runs end on their own), seeded."""
    return seeded(FakeCodeOcean())


def make_specs(n: int = N, *, failing: tuple[int, ...] = ()) -> list[RunParams]:
    """``n`` distinct specs (parameter ``i``); those in ``failing`` run cap-bad."""
    return [
        RunParams(
            capsule_id="cap-bad" if i in failing else "cap-ok",
            version=2 if i % 3 == 0 and i not in failing else None,
            data_assets=[DataAssetsRunParam("da-1", mount="in")] if i % 4 == 0 else None,
            parameters=[str(i)],
            named_parameters={"index": str(i)} if i % 5 == 0 else None,
        )
        for i in range(n)
    ]


def specs_file(tmp_path: Path, specs: list[RunParams]) -> str:
    path = tmp_path / "specs.jsonl"
    write_specs(path, specs)
    return str(path)


def post_bodies(fake: FakeCodeOcean) -> list[Any]:
    return [
        r.body for r in fake.requests if r.method == "POST" and r.path == "/api/v1/computations"
    ]


def assert_each_sent_once(fake: FakeCodeOcean, specs: list[RunParams]) -> None:
    """Every spec's exact body was POSTed once, and nothing else was."""

    def key(body: Any) -> str:
        return json.dumps(body, sort_keys=True)

    expected = Counter(key(json.loads(to_json(spec))) for spec in specs)
    assert Counter(map(key, post_bodies(fake))) == expected
    assert max(expected.values()) == 1


def spec_of(fake: FakeCodeOcean, computation_id: str) -> int:
    """Which spec the fake's computation was started for (its first parameter)."""
    return int(fake.computations[computation_id]["parameters"][0]["value"])


# --- without --wait ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_launches_every_spec_once_and_lists_them_in_input_order(
    client, codeocean_fake, tmp_path
):
    specs = make_specs()
    r = await invoke(client, codeocean_fake, "run-many", specs_file(tmp_path, specs))
    assert (r.code, r.err) == (0, "")
    assert_each_sent_once(codeocean_fake, specs)
    assert {r.method for r in codeocean_fake.requests} == {"POST"}  # no waiting
    assert len(codeocean_fake.created_computations) == N
    rows = r.table()
    assert [row[0] for row in rows] == [str(i) for i in range(N)]
    assert all(row[2:] == ["launched", "1"] for row in rows)
    assert [spec_of(codeocean_fake, row[1]) for row in rows] == list(range(N))
    assert sorted(row[1] for row in rows) == sorted(codeocean_fake.created_computations)
    events = r.events()
    assert sorted(index for index, _, what in events if what == "launched") == list(range(N))
    assert {(index, cid) for index, cid, _ in events} == {(i, row[1]) for i, row in enumerate(rows)}
    assert r.out.splitlines()[-1] == f"{N} specs: launched {N}"


@pytest.mark.anyio
async def test_json_without_wait(client, codeocean_fake, tmp_path):
    specs = make_specs(8)
    r = await invoke(client, codeocean_fake, "run-many", specs_file(tmp_path, specs), "--json")
    assert r.code == 0
    docs = r.json()
    assert [d["index"] for d in docs] == list(range(8))
    assert [d["spec"] for d in docs] == [json.loads(to_json(s)) for s in specs]
    for i, d in enumerate(docs):
        cid = d["computation"]["id"]
        assert spec_of(codeocean_fake, cid) == i
        assert (d["attempts"], d["error"], d["uncertain"]) == ([cid], None, False)
        assert d["computation"]["outcome"] == "not_finished"
    assert sorted(i for i, _, what in r.events("err") if what == "launched") == list(range(8))


# --- with --wait -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_wait_all_succeed_is_exit_0(client, codeocean_fake, tmp_path):
    specs = make_specs()
    r = await invoke(client, codeocean_fake, "run-many", specs_file(tmp_path, specs), "--wait")
    assert (r.code, r.err) == (0, "")
    assert_each_sent_once(codeocean_fake, specs)
    rows = r.table()
    assert [row[0] for row in rows] == [str(i) for i in range(N)]
    assert all(row[2:] == ["succeeded", "1"] for row in rows)
    assert [spec_of(codeocean_fake, row[1]) for row in rows] == list(range(N))
    finished = [(i, cid) for i, cid, what in r.events() if what == "finished: succeeded"]
    assert sorted(finished) == [(i, row[1]) for i, row in enumerate(rows)]
    assert r.out.splitlines()[-1] == f"{N} specs: succeeded {N}"


@pytest.mark.anyio
async def test_wait_json_matches_the_fake_and_a_failed_run_is_exit_1(
    client, codeocean_fake, tmp_path
):
    specs = make_specs(failing=(3, 17))
    path = specs_file(tmp_path, specs)
    r = await invoke(
        client, codeocean_fake, "run-many", path, "--wait", "--json", "--concurrency", "4"
    )
    assert r.code == 1
    assert_each_sent_once(codeocean_fake, specs)
    docs = r.json()
    assert [d["index"] for d in docs] == list(range(N))
    assert [d["spec"] for d in docs] == [json.loads(to_json(s)) for s in specs]
    for i, d in enumerate(docs):
        served = codeocean_fake.computations[d["computation"]["id"]]
        assert spec_of(codeocean_fake, served["id"]) == i
        assert (d["computation"]["state"], d["computation"]["end_status"]) == (
            served["state"],
            served["end_status"],
        )
        assert d["computation"]["outcome"] == ("failed" if i in (3, 17) else "succeeded")
        assert (d["attempts"], d["error"], d["uncertain"]) == ([served["id"]], None, False)
    lines = r.events("err")
    assert sorted(i for i, _, what in lines if what == "finished: failed") == [3, 17]
    assert len([what for _, _, what in lines if what == "launched"]) == N


@pytest.mark.anyio
async def test_wait_human_failed_run(client, codeocean_fake, tmp_path):
    specs = make_specs(5, failing=(1,))
    r = await invoke(client, codeocean_fake, "run-many", specs_file(tmp_path, specs), "--wait")
    assert r.code == 1
    assert [row[2] for row in r.table()] == ["succeeded", "failed", *["succeeded"] * 3]
    assert r.out.splitlines()[-1] == "5 specs: succeeded 4, failed 1"


@pytest.mark.anyio
async def test_wait_timeout_is_exit_1_and_the_run_keeps_its_last_state(
    client, codeocean_fake, tmp_path
):
    specs = [RunParams(capsule_id="cap-ok", parameters=["0"])]
    specs.append(RunParams(capsule_id="cap-slow", parameters=["1"]))
    path = specs_file(tmp_path, specs)
    r = await invoke(client, codeocean_fake, "run-many", path, "--wait", "--timeout", "0.5")
    assert r.code == 1
    rows = r.table()
    assert [row[2] for row in rows] == ["succeeded", "timed"]  # "timed out"
    assert "spec 1: computation " in r.out
    assert "did not finish before its deadline" in r.out
    r = await invoke(
        client, codeocean_fake, "run-many", path, "--wait", "--timeout", "0.5", "--json"
    )
    doc = r.json()[1]
    assert doc["computation"]["state"] == "initializing"
    assert "did not finish before its deadline" in doc["error"]
    assert doc["uncertain"] is False


# --- launches that fail ------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("wait", [(), ("--wait",)])
async def test_uncertain_launch_is_exit_1_and_never_resent(client, codeocean_fake, tmp_path, wait):
    codeocean_fake.faults.script("POST", "/computations", Fault.server_error(503))
    specs = make_specs(10)
    path = specs_file(tmp_path, specs)
    r = await invoke(client, codeocean_fake, "run-many", path, "--json", *wait)
    assert r.code == 1
    assert_each_sent_once(codeocean_fake, specs)  # the 503'd spec too, once: not resent
    assert len(codeocean_fake.created_computations) == 9
    docs = r.json()
    (bad,) = [d for d in docs if d["uncertain"]]
    assert (bad["computation"], bad["attempts"]) == (None, [])
    assert "may or may not have started a computation" in bad["error"]
    refused = [r.body for r in codeocean_fake.requests if r.fault == "server_error"]
    assert refused == [bad["spec"]]
    assert all(d["error"] is None for d in docs if d is not bad)
    launch_lines = [(i, what) for i, _, what in r.events("err") if what.startswith("launch ")]
    assert [i for i, _ in launch_lines] == [bad["index"]]
    assert launch_lines[0][1].startswith("launch uncertain: the run request may or may not")


@pytest.mark.anyio
async def test_uncertain_and_failed_launches_in_the_summary(client, codeocean_fake, tmp_path):
    codeocean_fake.faults.script("POST", "/computations", Fault.server_error(503))
    specs = [*make_specs(3), RunParams(capsule_id="cap-missing", parameters=["3"])]
    # One launch at a time, so the scripted 503 meets spec 0 (trio randomises task order).
    path = specs_file(tmp_path, specs)
    r = await invoke(client, codeocean_fake, "run-many", path, "--wait", "--concurrency", "1")
    assert r.code == 1
    outcomes = [" ".join(row[2:-1]) for row in r.table()]
    assert sorted(outcomes) == ["launch failed", "launch uncertain", "succeeded", "succeeded"]
    assert outcomes[3] == "launch failed"
    assert r.table()[3][1] == "-"
    assert "spec 3: 404 on POST" in r.out
    assert r.out.splitlines()[-1].startswith("4 specs: succeeded 2, ")


@pytest.mark.anyio
async def test_wrong_token_is_exit_3_with_one_line(codeocean_fake, tmp_path):
    wrong = "cop_wrong_0123456789abcdef"
    path = specs_file(tmp_path, make_specs())
    async with AsyncCodeOcean(
        domain=DOMAIN, token=wrong, transport=codeocean_fake.transport(), allow_insecure_http=True
    ) as bad_client:
        for mode in ((), ("--json",), ("--wait",)):
            # The launch interval makes each launch await: over a network every request does.
            argv = ["run-many", path, "--launch-interval", "0.001", *mode]
            r = await invoke(bad_client, codeocean_fake, *argv)
            # A 401 is a definite failure for every spec: the summary (or --json document)
            # names each spec, then one line says the token was refused (it used to say
            # "batch cancelled: ... may or may not have started" and print no JSON).
            assert r.code == 3
            errors = [line for line in r.err.splitlines() if "error:" in line]
            assert len(errors) == 1
            assert errors[0].startswith("codeocean-async: error: 401 ")
            assert "check $CODEOCEAN_API_TOKEN" in errors[0]
            assert "may or may not" not in r.err + r.out
            if "--json" in mode:
                doc = json.loads(r.out)
                assert [o["index"] for o in doc] == list(range(len(make_specs())))
                assert all("401" in o["error"] or o["error"] == "not sent" for o in doc)
                assert any("401" in o["error"] for o in doc)
                assert not any(o["uncertain"] for o in doc)
            else:
                assert r.out.splitlines()[-1].startswith(f"{len(make_specs())} specs: ")
            assert wrong not in r.err + r.out
            assert 1 <= len(post_bodies(codeocean_fake)) <= 8  # stopped at the first 401
            codeocean_fake.reset_requests()
    assert codeocean_fake.created_computations == []


# --- bad input: exit 2, nothing sent -----------------------------------------------------------

GOOD = '{"capsule_id": "cap-ok"}'
BAD_LINES = [
    ([GOOD, "", GOOD, "{not json"], "line 4: not valid JSON"),
    (
        [GOOD, '{"capsule_id": "cap-ok", "bogus": 1}'],
        "line 2: the spec has an unknown field 'bogus'",
    ),
    (["", "", '{"capsule_id": "cap-ok", "pipeline_id": "p"}'], "line 3: "),
    ([GOOD, "", "  ", '{"capsule_id": "a/b"}', GOOD], "line 4: capsule_id contains"),
    ([GOOD, '{"capsule_id": "cap-ok", "data_assets": [{"id": ""}]}'], "line 2: data_assets[0].id"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("lines", "message"), BAD_LINES)
async def test_bad_line_is_exit_2_naming_it_before_any_request(
    client, codeocean_fake, tmp_path, lines, message
):
    path = tmp_path / "specs.jsonl"
    path.write_text("\n".join(lines) + "\n")
    r = await invoke(client, codeocean_fake, "run-many", str(path), "--wait")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith(f"codeocean-async: error: {path}, line ")
    assert message in r.err
    assert r.err.count("\n") == 1
    assert codeocean_fake.requests == []


BAD_OPTIONS = [
    (["--concurrency", "0"], "--concurrency must be a whole number >= 1"),
    (["--launch-interval", "-1"], "--launch-interval must be a number of seconds >= 0"),
    (["--timeout", "5"], "--timeout applies only with --wait"),
    (["--strategy", "list"], "--strategy applies only with --wait"),
    (["--relaunch-failed-starts", "1"], "--relaunch-failed-starts applies only with --wait"),
    (["--max-requests-per-second", "5"], "--max-requests-per-second applies only with --wait"),
    (["--wait", "--timeout", "-1"], "--timeout must be a number of seconds >= 0"),
    (["--wait", "--timeout", "inf"], "--timeout must be a number of seconds >= 0"),
    (["--wait", "--relaunch-failed-starts", "-1"], "must be a whole number >= 0"),
    (["--wait", "--max-requests-per-second", "0"], "must be a number > 0"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("options", "message"), BAD_OPTIONS)
async def test_bad_options_are_exit_2(client, codeocean_fake, tmp_path, options, message):
    path = specs_file(tmp_path, make_specs(2))
    r = await invoke(client, codeocean_fake, "run-many", path, *options)
    assert (r.code, r.out) == (2, "")
    assert message in r.err
    assert codeocean_fake.requests == []


@pytest.mark.anyio
async def test_missing_file_is_exit_2(client, codeocean_fake, tmp_path):
    r = await invoke(client, codeocean_fake, "run-many", str(tmp_path / "nope.jsonl"), "--json")
    assert (r.code, r.out) == (2, "")
    assert r.err.startswith("codeocean-async: error: cannot read ")
    assert codeocean_fake.requests == []


def test_argparse_rejects_an_unknown_strategy(capsys):
    assert cli.main(["run-many", "x.jsonl", "--wait", "--strategy", "fast"]) == 2
    assert "invalid choice: 'fast'" in capsys.readouterr().err


def test_help_describes_run_many(capsys):
    assert cli.main(["run-many", "--help"]) == 0
    text = capsys.readouterr().out
    for words in ("SPECS.jsonl", "--concurrency N", "--relaunch-failed-starts N", "exit codes:"):
        assert words in text


# --- stdin, empty input ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_specs_from_stdin(client, codeocean_fake, monkeypatch):
    specs = make_specs(4)
    text = "".join(to_json(s) + "\n" for s in specs)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    r = await invoke(client, codeocean_fake, "run-many", "-", "--wait")
    assert r.code == 0
    assert_each_sent_once(codeocean_fake, specs)
    monkeypatch.setattr(sys, "stdin", io.StringIO(text + "\n[]\n"))
    r = await invoke(client, codeocean_fake, "run-many", "-")
    assert r.code == 2
    assert r.err.startswith(
        "codeocean-async: error: <stdin>, line 6: a run spec is a JSON object, not a list"
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO('\n{"capsule_id": "x y"}\n'))
    r = await invoke(client, codeocean_fake, "run-many", "-")
    assert r.code == 2
    assert "<stdin>, line 2: capsule_id contains" in r.err


@pytest.mark.anyio
async def test_no_specs_is_exit_0(client, codeocean_fake, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n")
    r = await invoke(client, codeocean_fake, "run-many", str(path), "--wait")
    assert (r.code, r.out) == (0, "0 specs\n")
    r = await invoke(client, codeocean_fake, "run-many", str(path), "--json")
    assert (r.code, r.json()) == (0, [])
    assert codeocean_fake.requests == []


# --- progress ----------------------------------------------------------------------------------

LIVE = re.compile(r"\r([^\r\n\x1b]*)\x1b\[K")


@pytest.mark.anyio
@pytest.mark.parametrize("wait", [True, False])
async def test_terminal_shows_one_live_line(client, codeocean_fake, tmp_path, monkeypatch, wait):
    monkeypatch.setenv("COLUMNS", "300")
    specs = make_specs(failing=(4,))
    argv = ["run-many", specs_file(tmp_path, specs), *(["--wait"] if wait else [])]
    r = await invoke(client, codeocean_fake, *argv, out=Terminal())
    assert r.code == (1 if wait else 0)
    assert r.err == ""
    assert r.events() == []  # no event lines on a terminal
    live, _, summary = r.out.rpartition("\x1b[K\n")
    assert live.startswith("\r0:00:00  ")
    frames = LIVE.findall(live + "\x1b[K")
    assert len(frames) >= 2
    assert all("\n" not in frame for frame in frames)
    last = frames[-1]
    if wait:
        assert f"finished {N}/{N} (1 not succeeded)" in last
        assert f"| launched {N} | initializing 0, running 0, finalizing 0 |" in last
    else:
        assert f"launched {N}/{N}" in last
    assert last.endswith("retries 0, failed launches 0")
    assert summary.splitlines()[0].startswith("INDEX  COMPUTATION")
    assert len(Result(0, summary, "").table()) == N


@pytest.mark.anyio
async def test_terminal_line_fits_the_width(client, codeocean_fake, tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    path = specs_file(tmp_path, make_specs(3))
    r = await invoke(client, codeocean_fake, "run-many", path, "--wait", out=Terminal())
    assert r.code == 0
    frames = LIVE.findall(r.out)
    assert frames
    assert all(len(frame) <= 49 for frame in frames)


@pytest.mark.anyio
async def test_json_on_a_terminal_prints_lines_on_stderr(client, codeocean_fake, tmp_path):
    path = specs_file(tmp_path, make_specs(3))
    r = await invoke(client, codeocean_fake, "run-many", path, "--json", "--wait", out=Terminal())
    assert r.code == 0
    assert "\r" not in r.out + r.err
    assert len(r.json()) == 3
    assert len(r.events("err")) == 6  # launched and finished, for each


def computation(cid: str, **fields: Any) -> Computation:
    body = {"id": cid, "created": 1_700_000_000, "state": "initializing", **fields}
    return from_json(Computation, json.dumps(body))


def test_live_line_redraws_at_most_ten_times_a_second(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "300")
    now = [0.0]
    stream = Terminal()
    line = LiveLine(stream, 3, waiting=True, clock=lambda: now[0])
    for i in range(3):  # all at once: only the first is drawn
        line.on_event(Launched(index=i, computation=computation(f"c-{i}")))
    assert stream.getvalue().count("\r") == 1
    now[0] = 0.05
    line.on_event(Finished(index=0, computation=computation("c-0", state="completed")))
    assert stream.getvalue().count("\r") == 1
    now[0] = 0.1
    line.on_event(Finished(index=1, computation=computation("c-1", state="failed")))
    assert stream.getvalue().count("\r") == 2
    now[0] = 90.0
    line.close()
    frames = LIVE.findall(stream.getvalue())
    assert frames[0].startswith("0:00:00  finished 0/3  -/min | launched 1 | initializing 1,")
    assert frames[-1] == (
        "0:01:30  finished 2/3 (1 not succeeded)  1.3/min | launched 3"
        " | initializing 1, running 0, finalizing 0 | retries 0, failed launches 0"
    )
    assert stream.getvalue().endswith("\x1b[K\n")
    line.close()  # once
    assert stream.getvalue().count("\n") == 1


def test_plain_lines_show_a_relaunch() -> None:
    out = io.StringIO()
    lines = PlainLines(Output(out, io.StringIO(), json_mode=False), 1)
    first = computation("c-1", state="completed", end_status="failed", has_results=False)
    second = computation("c-2", state="completed", end_status="succeeded", exit_code=0)
    lines.on_event(Launched(index=0, computation=computation("c-1")))
    lines.on_event(Finished(index=0, computation=first))
    lines.on_event(Relaunched(index=0, previous=first, computation=computation("c-2")))
    lines.on_event(Finished(index=0, computation=second))
    result = Result(0, out.getvalue(), "")
    assert result.events() == [
        (0, "c-1", "launched"),
        (0, "c-1", "finished: failed_start"),
        (0, "c-2", "relaunched (c-1 failed to start)"),
        (0, "c-2", "finished: succeeded"),
    ]
    tally = lines.tally
    assert (tally.launched, tally.relaunches, tally.outcomes) == (2, 1, {0: "succeeded"})
    assert tally.line(60, waiting=True).endswith("failed launches 0, relaunched 1")


# --- cancellation, a real process, and a known scheduler bug -----------------------------------


@pytest.mark.anyio
async def test_cancelled_batch_names_the_runs_that_keep_running(client, codeocean_fake, tmp_path):
    path = specs_file(tmp_path, make_specs(10))

    class CancelAfterThree(io.StringIO):
        def write(self, s: str) -> int:
            n = super().write(s)
            if self.getvalue().count("launched") == 3:
                scope.cancel()
            return n

    out, err = CancelAfterThree(), io.StringIO()
    argv = ["run-many", path, "--concurrency", "1", "--launch-interval", "0.05"]
    args = cli.build_parser().parse_args(argv)
    with anyio.CancelScope() as scope:
        await cli.run_command(args, client, out=out, err=err)
    assert scope.cancelled_caught
    started = codeocean_fake.created_computations
    assert 3 <= len(started) < 10
    assert err.getvalue().startswith(
        f"codeocean-async: cancelled: {len(started)} computations started and keep running: "
    )
    assert all(cid in err.getvalue() for cid in started)
    assert f"; {10 - len(started)} specs never sent" in err.getvalue()
    assert "INDEX" not in out.getvalue()


def test_python_dash_m_run_many_from_stdin():
    fake = seeded(FakeCodeOcean())
    specs = make_specs(6)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("CODEOCEAN_AGENT_ID", None)
    with serve_in_thread(fake) as url:
        env.update(CODEOCEAN_DOMAIN=url, CODEOCEAN_API_TOKEN=fake.token)
        proc = subprocess.run(
            [sys.executable, "-m", "codeocean_async", "run-many", "-", "--wait", "--json"],
            input="".join(to_json(s) + "\n" for s in specs),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert [d["computation"]["outcome"] for d in docs] == ["succeeded"] * 6
    assert [d["spec"] for d in docs] == [json.loads(to_json(s)) for s in specs]
    assert len(proc.stderr.splitlines()) == 12
    assert fake.token not in proc.stdout + proc.stderr
    assert_each_sent_once(fake, specs)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_is_exit_130_naming_the_runs_that_keep_running(tmp_path):
    fake = seeded(FakeCodeOcean())
    specs = [RunParams(capsule_id="cap-slow", parameters=[str(i)]) for i in range(20)]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("CODEOCEAN_AGENT_ID", None)
    argv = ["run-many", "-", "--wait", "--launch-interval", "0.05", "--concurrency", "1"]
    with serve_in_thread(fake) as url, open(specs_file(tmp_path, specs)) as specs_in:
        env.update(CODEOCEAN_DOMAIN=url, CODEOCEAN_API_TOKEN=fake.token)
        proc = subprocess.Popen(
            [sys.executable, "-m", "codeocean_async", *argv],
            env=env,
            stdin=specs_in,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        launched = 0
        for line in proc.stdout:  # each event line is flushed at once
            launched += line.rstrip().endswith("  launched")
            if launched == 3:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    match = re.search(r"codeocean-async: cancelled: (\d+) computations started and keep", err)
    assert match, err
    started = int(match[1])
    assert started >= 3
    assert all(cid in err for cid in fake.created_computations[:started])
    # A launch in flight at Ctrl-C may have started a run the client never heard of.
    assert len(fake.created_computations) in (started, started + 1)
    assert err.endswith("codeocean-async: interrupted\n")
    assert "Traceback" not in err
    assert "INDEX" not in out
    assert fake.token not in out + err


@pytest.mark.anyio
async def test_wait_for_runs_that_are_finished_at_launch(tmp_path):
    fake = FakeCodeOcean(clock=ManualClock())
    fake.add_capsule(id="cap-ok", versions=(2,), run_durations=(0, 0, 0))
    fake.add_data_asset(id="da-1")
    path = specs_file(tmp_path, make_specs(5))
    async with AsyncCodeOcean(
        domain=DOMAIN,
        token=fake.token,
        transport=fake.transport(),
        allow_insecure_http=True,
        poll=PollPolicy(initial=0.01, maximum=0.05, jitter=0),
    ) as client:
        r = await invoke(client, fake, "run-many", path, "--wait")
    assert [row[2] for row in r.table()] == ["succeeded"] * 5
    assert r.code == 0
