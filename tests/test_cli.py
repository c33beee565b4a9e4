"""The command line against the fake Code Ocean: output, the exact requests, and exit codes."""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from codeocean_async import AsyncCodeOcean, PollPolicy, cli
from codeocean_async.testing import FakeCodeOcean, ManualClock, serve_in_thread

DOMAIN = "http://codeocean.test"
STATE_LINE = re.compile(r"^\d\d:\d\d:\d\d  (\S+)  (\S+)$")
CREATED = "2023-11-14T22:13:20Z"  # the fake's base_time, 1_700_000_000


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)  # the whole of stdout is one document

    @property
    def states(self) -> list[str]:
        """The states shown, from stdout (human mode) or stderr (JSON mode)."""
        lines = (self.out + self.err).splitlines()
        return [m.group(2) for m in map(STATE_LINE.match, lines) if m]


class Ticking(io.StringIO):
    """A stream that moves the fake's clock on every write: a wait sees each state, no sleeping."""

    def __init__(self, clock: ManualClock, step: float = 1.0) -> None:
        super().__init__()
        self.clock, self.step = clock, step

    def write(self, s: str) -> int:
        n = super().write(s)
        self.clock.advance(self.step)
        return n


async def invoke(
    client: AsyncCodeOcean,
    fake: FakeCodeOcean,
    *argv: str,
    out: io.StringIO | None = None,
    err: io.StringIO | None = None,
) -> Result:
    out, err = out or io.StringIO(), err or io.StringIO()
    args = cli.build_parser().parse_args(list(argv))
    code = await cli.run_command(args, client, out=out, err=err)
    result = Result(code, out.getvalue(), err.getvalue())
    assert fake.token not in result.out + result.err
    assert "Traceback" not in result.err
    return result


def clock_of(fake: FakeCodeOcean) -> ManualClock:
    assert isinstance(fake.clock, ManualClock)
    return fake.clock


def post_bodies(fake: FakeCodeOcean) -> list[Any]:
    return [
        r.body for r in fake.requests if r.method == "POST" and r.path == "/api/v1/computations"
    ]


@pytest.fixture
async def client(codeocean_fake: FakeCodeOcean) -> AsyncIterator[AsyncCodeOcean]:
    """Like ``codeocean_client``, but polling every 10 ms so waits end quickly."""
    async with AsyncCodeOcean(
        domain=DOMAIN,
        token=codeocean_fake.token,
        transport=httpx.ASGITransport(app=codeocean_fake),
        allow_insecure_http=True,
        poll=PollPolicy(initial=0.01, maximum=0.01, jitter=0),
    ) as c:
        yield c


@pytest.fixture
def capsule_id(codeocean_fake: FakeCodeOcean) -> str:
    return str(
        codeocean_fake.add_capsule(
            id="cap-1",
            name="deepTools",
            versions=(1, 2),
            tags=("ChIP", "Normalization"),
            description="Coverage\ntracks.",
            field="Bioinformatics",
        )["id"]
    )


# --- capsule get -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_capsule_get_human(codeocean_client, codeocean_fake, capsule_id):
    r = await invoke(codeocean_client, codeocean_fake, "capsule", "get", capsule_id)
    assert r.code == 0
    assert r.err == ""
    lines = r.out.splitlines()
    assert lines[0] == "name         deepTools"
    assert "id           cap-1" in lines
    assert "status       release" in lines
    assert f"created      {CREATED}" in lines
    assert "tags         ChIP, Normalization" in lines
    assert "description  Coverage tracks." in lines
    assert "versions     1.0 (2023-11-15T22:13:20Z), 2.0 (2023-11-16T22:13:20Z)" in lines
    assert [r.path for r in codeocean_fake.requests] == ["/api/v1/capsules/cap-1"]


@pytest.mark.anyio
async def test_capsule_get_json(codeocean_client, codeocean_fake, capsule_id):
    r = await invoke(codeocean_client, codeocean_fake, "capsule", "get", capsule_id, "--json")
    assert r.code == 0
    assert r.err == ""
    doc = r.json()
    assert doc["id"] == "cap-1"
    assert doc["name"] == "deepTools"
    assert doc["status"] == "release"
    assert doc["created"] == 1_700_000_000
    assert doc["tags"] == ["ChIP", "Normalization"]
    assert [v["major_version"] for v in doc["versions"]] == [1, 2]


@pytest.mark.anyio
async def test_capsule_get_pipeline(codeocean_client, codeocean_fake):
    codeocean_fake.add_pipeline(id="pipe-1", name="Nextflow")
    r = await invoke(
        codeocean_client, codeocean_fake, "--json", "capsule", "get", "pipe-1", "--pipeline"
    )
    assert r.code == 0
    assert r.json()["name"] == "Nextflow"
    assert [r.path for r in codeocean_fake.requests] == ["/api/v1/pipelines/pipe-1"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", [(), ("--json",)])
async def test_not_found_is_exit_3_with_one_line(codeocean_client, codeocean_fake, mode):
    r = await invoke(codeocean_client, codeocean_fake, "capsule", "get", "nope", *mode)
    assert r.code == 3
    assert r.out == ""
    assert r.err.count("\n") == 1
    assert r.err.startswith("codeocean-async: error: 404 ")
    assert "Capsule nope not found" in r.err


# --- computations list -------------------------------------------------------------------------


@pytest.fixture
def history(codeocean_fake: FakeCodeOcean, capsule_id: str) -> FakeCodeOcean:
    """Three computations of cap-1: succeeded (5 s), still running (3 s in), and failed."""
    fake, clock = codeocean_fake, clock_of(codeocean_fake)
    fake.add_computation(capsule_id=capsule_id, id="c-ok", name="first run", durations=(0, 5, 0))
    clock.advance(10)
    fake.add_computation(capsule_id=capsule_id, id="c-run", name="second", durations=(0, 100, 0))
    fake.add_computation(capsule_id=capsule_id, id="c-bad", name="third", outcome="failed")
    clock.advance(3)
    return fake


@pytest.mark.anyio
async def test_computations_list_human(codeocean_client, history, capsule_id):
    r = await invoke(codeocean_client, history, "computations", "list", capsule_id)
    assert r.code == 0
    assert r.err == ""
    rows = [line.split() for line in r.out.splitlines()]
    assert rows[0] == ["ID", "NAME", "STATE", "OUTCOME", "CREATED", "(UTC)", "RUN_TIME"]
    assert rows[1] == ["c-ok", "first", "run", "completed", "succeeded", CREATED, "0:00:05"]
    assert rows[2] == [
        "c-run",
        "second",
        "running",
        "not_finished",
        "2023-11-14T22:13:30Z",
        "0:00:03",
    ]
    assert rows[3] == ["c-bad", "third", "completed", "failed", "2023-11-14T22:13:30Z", "0:00:00"]
    assert len(rows) == 4


@pytest.mark.anyio
async def test_computations_list_json(codeocean_client, history, capsule_id):
    r = await invoke(codeocean_client, history, "computations", "list", capsule_id, "--json")
    assert r.code == 0
    assert r.err == ""
    docs = r.json()
    assert [(d["id"], d["state"], d["outcome"]) for d in docs] == [
        ("c-ok", "completed", "succeeded"),
        ("c-run", "running", "not_finished"),
        ("c-bad", "completed", "failed"),
    ]
    assert docs[2]["end_status"] == "failed"
    assert docs[2]["exit_code"] == 1
    assert docs[0]["created"] == 1_700_000_000
    assert docs[0]["run_time"] == 5


@pytest.mark.anyio
async def test_computations_list_pipeline_empty_and_new_state(codeocean_client, codeocean_fake):
    codeocean_fake.add_pipeline(id="pipe-1")
    r = await invoke(
        codeocean_client, codeocean_fake, "computations", "list", "pipe-1", "--pipeline"
    )
    assert (r.code, r.out) == (0, "No computations for pipe-1.\n")
    # A state this SDK does not know yet is shown as the server's string, never refused.
    codeocean_fake.add_computation(pipeline_id="pipe-1", id="c-new", state="paused")
    r = await invoke(
        codeocean_client, codeocean_fake, "computations", "list", "pipe-1", "--pipeline", "--json"
    )
    assert [(d["id"], d["state"], d["outcome"]) for d in r.json()] == [
        ("c-new", "paused", "not_finished")
    ]
    assert {r.path for r in codeocean_fake.requests} == {"/api/v1/pipelines/pipe-1/computations"}


# --- run ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_run_sends_every_option(codeocean_client, codeocean_fake, capsule_id):
    codeocean_fake.add_data_asset(id="da-1", mount="Alignment")
    codeocean_fake.add_data_asset(id="da-2")
    argv = ["run", capsule_id, "--version", "2", "--data-asset", "da-1", "--data-asset", "da-2:in"]
    argv += ["--param", "p1", "--param=--x", "--named-param", "alpha=1"]
    argv += ["--named-param", "beta=x=y", "--named-param", "empty="]
    r = await invoke(codeocean_client, codeocean_fake, *argv)
    assert r.code == 0
    assert r.err == ""
    assert post_bodies(codeocean_fake) == [
        {
            "capsule_id": "cap-1",
            "version": 2,
            "data_assets": [{"id": "da-1"}, {"id": "da-2", "mount": "in"}],
            "parameters": ["p1", "--x"],
            "named_parameters": [
                {"param_name": "alpha", "value": "1"},
                {"param_name": "beta", "value": "x=y"},
                {"param_name": "empty", "value": ""},
            ],
        }
    ]
    (started,) = codeocean_fake.created_computations
    assert r.out.splitlines() == [
        f"Started computation {started} (Run 0000000): initializing",
        f"Follow it with: codeocean-async wait {started}",
    ]


@pytest.mark.anyio
async def test_run_pipeline_json(codeocean_client, codeocean_fake):
    codeocean_fake.add_pipeline(id="pipe-1")
    r = await invoke(codeocean_client, codeocean_fake, "run", "pipe-1", "--pipeline", "--json")
    assert r.code == 0
    assert r.err == ""
    assert post_bodies(codeocean_fake) == [{"pipeline_id": "pipe-1"}]
    doc = r.json()
    assert doc["id"] == codeocean_fake.created_computations[0]
    assert (doc["state"], doc["outcome"]) == ("initializing", "not_finished")


@pytest.mark.anyio
async def test_run_wait_shows_each_state(client, codeocean_fake, capsule_id):
    out = Ticking(clock_of(codeocean_fake))
    r = await invoke(client, codeocean_fake, "run", capsule_id, "--wait", out=out)
    assert r.code == 0
    assert r.err == ""
    (cid,) = codeocean_fake.created_computations
    lines = r.out.splitlines()
    assert [STATE_LINE.match(line).group(1) for line in lines[:-1]] == [cid] * 4  # type: ignore[union-attr]
    assert r.states == ["initializing", "running", "finalizing", "completed"]
    assert lines[-1] == f"Computation {cid} finished: succeeded (run time 0:00:01)"


@pytest.mark.anyio
async def test_run_wait_json_keeps_stdout_one_document(client, codeocean_fake, capsule_id):
    err = Ticking(clock_of(codeocean_fake))
    r = await invoke(client, codeocean_fake, "run", capsule_id, "--wait", "--json", err=err)
    assert r.code == 0
    doc = r.json()
    assert (doc["state"], doc["outcome"], doc["exit_code"]) == ("completed", "succeeded", 0)
    assert r.states == ["initializing", "running", "finalizing", "completed"]
    assert all(STATE_LINE.match(line) for line in r.err.splitlines())


NOT_SUCCEEDED = [
    ("failed", "failed"),
    ("stopped", "stopped"),
    ("failed_start", "failed_start"),
    ("state_failed", "failed"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("planned", "outcome"), NOT_SUCCEEDED)
async def test_run_wait_not_succeeded_is_exit_1(
    client, codeocean_fake, capsule_id, planned, outcome
):
    codeocean_fake.plan_next_run(outcome=planned, durations=(0, 0, 0))
    r = await invoke(client, codeocean_fake, "run", capsule_id, "--wait")
    assert r.code == 1
    assert r.err == ""
    (cid,) = codeocean_fake.created_computations
    assert r.out.splitlines()[-1].startswith(f"Computation {cid} finished: {outcome} (state ")


@pytest.mark.anyio
@pytest.mark.parametrize(("planned", "outcome"), NOT_SUCCEEDED)
async def test_wait_not_succeeded_is_exit_1(client, codeocean_fake, capsule_id, planned, outcome):
    codeocean_fake.add_computation(capsule_id=capsule_id, id="c-1", outcome=planned)
    r = await invoke(client, codeocean_fake, "wait", "c-1")
    assert r.code == 1
    assert r.err == ""
    assert r.states == [outcome_state(planned)]
    assert r.out.splitlines()[-1].startswith(f"Computation c-1 finished: {outcome} (state ")
    r = await invoke(client, codeocean_fake, "wait", "c-1", "--json")
    assert r.code == 1
    assert r.json()["outcome"] == outcome


def outcome_state(planned: str) -> str:
    return "failed" if planned == "state_failed" else "completed"


@pytest.mark.anyio
async def test_wait_human_and_json(client, codeocean_fake, capsule_id):
    codeocean_fake.add_computation(capsule_id=capsule_id, id="c-1", durations=(1, 1, 1))
    r = await invoke(client, codeocean_fake, "wait", "c-1", out=Ticking(clock_of(codeocean_fake)))
    assert r.code == 0
    assert r.err == ""
    assert r.states == ["initializing", "running", "finalizing", "completed"]
    assert r.out.splitlines()[-1] == "Computation c-1 finished: succeeded (run time 0:00:01)"
    r = await invoke(client, codeocean_fake, "--json", "wait", "c-1")
    assert r.code == 0
    assert r.json()["id"] == "c-1"
    assert r.states == ["completed"]


# --- bad input: exit 2, nothing sent -----------------------------------------------------------

BAD_INPUT = [
    (["run", "cap-1", "--named-param", "novalue"], "expected NAME=VALUE"),
    (["run", "cap-1", "--named-param", "=v"], "expected NAME=VALUE"),
    (["run", "cap-1", "--named-param", "a=1", "--named-param", "a=2"], "more than once"),
    (["run", "cap-1", "--version", "0"], "--version must be a whole number >= 1"),
    (["run", "cap-1", "--version", "-3"], "--version must be a whole number >= 1"),
    (["run", "cap-1", "--data-asset", ""], "--data-asset '': id must not be empty"),
    (["run", "cap-1", "--data-asset", ":mnt"], "--data-asset ':mnt': id must not be empty"),
    (["run", "cap-1", "--data-asset", "da-1:"], "--data-asset 'da-1:': mount must not be empty"),
    (["run", "cap-1", "--data-asset", "da/1"], "not allowed in an ID"),
    (["run", "cap-1", "--data-asset", "abc: "], "--data-asset 'abc: ': mount must not be empty"),
    (["run", "cap-1", "--data-asset", "abc:\t"], "mount must not be empty"),
    (["run", "cap-1", "--data-asset", " abc"], "id contains a character not allowed"),
    (["run", "cap-1", "--data-asset", "da-1", "--data-asset", "a b:m"], "--data-asset 'a b:m'"),
    (["run", "cap-1", "--named-param", " =v"], "expected NAME=VALUE"),
    (["run", "cap-1", "--version", "2", "--data-asset", "x:"], "mount must not be empty"),
    (["run", "cap 1"], "capsule id contains a character not allowed"),
    (["run", "cap-1", "--wait", "--timeout", "inf"], "--timeout must be a number of seconds >= 0"),
    (["run", ""], "capsule id must not be empty"),
    (["run", "..", "--pipeline"], "pipeline id must not be '..'"),
    (["run", "cap-1", "--timeout", "5"], "--timeout applies only with --wait"),
    (["run", "cap-1", "--wait", "--timeout", "-0.5"], "--timeout must be a number of seconds >= 0"),
    (["run", "cap-1", "--wait", "--timeout", "nan"], "--timeout must be a number of seconds >= 0"),
    (["wait", "c 1"], "computation id contains a character not allowed"),
    (["wait", "c-1", "--timeout", "-1"], "--timeout must be a number of seconds >= 0"),
    (["capsule", "get", "a?b"], "capsule id contains a character not allowed"),
    (["computations", "list", "", "--json"], "capsule id must not be empty"),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("argv", "message"), BAD_INPUT)
async def test_bad_input_is_exit_2_before_any_request(
    codeocean_client, codeocean_fake, capsule_id, argv, message
):
    r = await invoke(codeocean_client, codeocean_fake, *argv)
    assert r.code == 2
    assert r.out == ""
    assert r.err.startswith("codeocean-async: error: ")
    assert r.err.count("\n") == 1
    assert message in r.err
    assert codeocean_fake.requests == []


@pytest.mark.parametrize(
    "argv",
    [argv for argv, _ in BAD_INPUT]
    + [
        ["run-many", "specs.jsonl", "--wait", "--timeout", "nan"],
        ["wait", "c-1", "--timeout", "inf"],
    ],
)
def test_bad_input_is_one_line_and_exit_2_from_main(monkeypatch, capsys, argv):
    # The whole command line, as a user runs it: no traceback, whatever the input.
    monkeypatch.setenv("CODEOCEAN_DOMAIN", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("CODEOCEAN_API_TOKEN", "cop_not_used_0123456789")
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("codeocean-async: error: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "-inf"])
def test_every_timeout_option_refuses_the_same_values_in_the_same_words(monkeypatch, capsys, value):
    monkeypatch.setenv("CODEOCEAN_DOMAIN", "http://127.0.0.1:9")  # never reached
    monkeypatch.setenv("CODEOCEAN_API_TOKEN", "cop_not_used_0123456789")
    errors = []
    for argv in (["run", "cap-1", "--wait"], ["wait", "c-1"], ["run-many", "x.jsonl", "--wait"]):
        assert cli.main([*argv, f"--timeout={value}"]) == 2
        errors.append(capsys.readouterr().err)
    message = f"--timeout must be a number of seconds >= 0, not {float(value)}"
    assert errors == [f"codeocean-async: error: {message}\n"] * 3


def test_argparse_usage_errors_are_exit_2(capsys):
    assert cli.main(["run", "cap-1", "--version", "two"]) == 2
    assert "invalid int value: 'two'" in capsys.readouterr().err
    assert cli.main([]) == 2
    assert cli.main(["capsule"]) == 2
    assert cli.main(["run", "cap-1", "--token", "cop_x"]) == 2  # there is no way to pass a token


def test_help_documents_exit_codes(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for code in ("0 ", "1 ", "2 ", "3 ", "4 ", "130 "):
        assert f"\n  {code}" in text
    assert cli.main(["run", "--help"]) == 0
    assert "the wait timed out" in capsys.readouterr().out
    assert "exit codes:" in (cli.__doc__ or "")


@pytest.mark.parametrize("position", ["before", "after"])
def test_shared_options_work_before_and_after_the_command(position):
    shared = ["--json", "--domain", "acme.codeocean.com"]
    argv = [*shared, "wait", "c-1"] if position == "before" else ["wait", "c-1", *shared]
    args = cli.build_parser().parse_args(argv)
    assert (args.json, args.domain, args.command) == (True, "acme.codeocean.com", "wait")
    args = cli.build_parser().parse_args(["wait", "c-1"])
    assert (args.json, args.domain) == (False, None)


# --- API errors, auth, timeouts ----------------------------------------------------------------


@pytest.mark.anyio
async def test_wrong_token_is_exit_3_and_never_printed(codeocean_fake, capsule_id):
    wrong = "cop_wrong_0123456789abcdef"
    async with AsyncCodeOcean(
        domain=DOMAIN,
        token=wrong,
        transport=httpx.ASGITransport(app=codeocean_fake),
        allow_insecure_http=True,
    ) as bad_client:
        for argv in (["capsule", "get", capsule_id], ["run", capsule_id, "--wait", "--json"]):
            r = await invoke(bad_client, codeocean_fake, *argv)
            assert r.code == 3
            assert r.out == ""
            assert r.err.startswith("codeocean-async: error: 401 ")
            assert r.err.count("\n") == 1
            assert "check $CODEOCEAN_API_TOKEN" in r.err
            assert wrong not in r.err
    assert codeocean_fake.created_computations == []


@pytest.mark.anyio
async def test_error_while_waiting_names_the_started_computation(
    client, codeocean_fake, capsule_id
):
    class RevokeOnFirstLine(io.StringIO):
        def write(self, s: str) -> int:
            codeocean_fake.token = "cop_rotated_token"  # the next poll is refused with 401
            return super().write(s)

    r = await invoke(client, codeocean_fake, "run", capsule_id, "--wait", out=RevokeOnFirstLine())
    (cid,) = codeocean_fake.created_computations
    assert r.code == 3
    assert r.states == ["initializing"]
    assert r.err.startswith(f"codeocean-async: error: computation {cid} was started, but waiting")
    assert "401" in r.err
    assert r.err.count("\n") == 1


@pytest.mark.anyio
async def test_wait_for_unknown_computation_is_exit_3(client, codeocean_fake):
    r = await invoke(client, codeocean_fake, "wait", "c-404")
    assert r.code == 3
    assert r.out == ""
    assert "Computation c-404 not found" in r.err


@pytest.mark.anyio
async def test_timeout_is_exit_4(client, codeocean_fake, capsule_id):
    codeocean_fake.add_computation(capsule_id=capsule_id, id="c-slow", durations=(100, 100, 100))
    r = await invoke(client, codeocean_fake, "wait", "c-slow", "--timeout", "0.05")
    assert r.code == 4
    assert r.states == ["initializing"]
    assert "did not finish within 0.05 s" in r.err
    assert "keeps running" in r.err
    assert r.err.count("\n") == 1
    # JSON mode: stdout still holds one document, the last state seen.
    r = await invoke(client, codeocean_fake, "wait", "c-slow", "--timeout", "0.05", "--json")
    assert r.code == 4
    assert r.json()["id"] == "c-slow"
    assert r.json()["state"] == "initializing"
    codeocean_fake.plan_next_run(durations=(100, 100, 100))
    r = await invoke(client, codeocean_fake, "run", capsule_id, "--wait", "--timeout", "0.05")
    assert r.code == 4
    assert r.states == ["initializing"]


# --- main(): configuration, Ctrl-C, a real process ---------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("CODEOCEAN_DOMAIN", "CODEOCEAN_API_TOKEN", "CODEOCEAN_AGENT_ID"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_missing_configuration_is_exit_3_naming_the_variable(clean_env, capsys):
    assert cli.main(["capsule", "get", "cap-1"]) == 3
    assert capsys.readouterr().err == (
        "codeocean-async: error: environment variable CODEOCEAN_DOMAIN is not set\n"
    )
    clean_env.setenv("CODEOCEAN_DOMAIN", "acme.codeocean.com")
    assert cli.main(["capsule", "get", "cap-1", "--json"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "CODEOCEAN_API_TOKEN is not set" in captured.err
    clean_env.delenv("CODEOCEAN_DOMAIN")
    assert cli.main(["--domain", "acme.codeocean.com", "capsule", "get", "cap-1"]) == 3
    assert "CODEOCEAN_API_TOKEN is not set" in capsys.readouterr().err


def test_domain_option_overrides_the_environment(clean_env, capsys):
    secret = "cop_secret_0123456789"
    clean_env.setenv("CODEOCEAN_API_TOKEN", secret)
    clean_env.setenv("CODEOCEAN_DOMAIN", "http://127.0.0.1:9")
    # Plain http to a host that is not loopback is refused before anything is sent.
    assert cli.main(["capsule", "get", "cap-1", "--domain", "http://example.com"]) == 3
    err = capsys.readouterr().err
    assert "refusing plain http:// for example.com" in err
    assert secret not in err


def test_ctrl_c_is_exit_130_without_traceback(clean_env, capsys):
    clean_env.setenv("CODEOCEAN_API_TOKEN", "cop_secret_0123456789")
    clean_env.setenv("CODEOCEAN_DOMAIN", "http://127.0.0.1:9")

    async def interrupted(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    clean_env.setattr(cli, "run_command", interrupted)
    assert cli.main(["wait", "c-1"]) == 130
    assert capsys.readouterr().err == "codeocean-async: interrupted\n"


def test_python_dash_m_lists_computations_over_a_socket():
    fake = FakeCodeOcean(clock=ManualClock())
    fake.add_capsule(id="cap-1")
    fake.add_computation(capsule_id="cap-1", id="c-ok")
    fake.add_computation(capsule_id="cap-1", id="c-bad", outcome="failed_start")
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.pop("CODEOCEAN_AGENT_ID", None)
    with serve_in_thread(fake) as url:
        env.update(CODEOCEAN_DOMAIN=url, CODEOCEAN_API_TOKEN=fake.token)
        proc = subprocess.run(
            [sys.executable, "-m", "codeocean_async", "computations", "list", "cap-1", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert (proc.returncode, proc.stderr) == (0, "")
    docs = json.loads(proc.stdout)
    assert [(d["id"], d["state"], d["outcome"]) for d in docs] == [
        ("c-ok", "completed", "succeeded"),
        ("c-bad", "completed", "failed_start"),
    ]
    assert fake.token not in proc.stdout
    assert [r.path for r in fake.requests] == ["/api/v1/capsules/cap-1/computations"]


def test_demo_command_runs_the_demo_without_a_client_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import codeocean_async._demo as demo_module

    calls: list[object] = []
    monkeypatch.delenv("CODEOCEAN_DOMAIN", raising=False)
    monkeypatch.delenv("CODEOCEAN_API_TOKEN", raising=False)

    def fake_demo(out: object) -> int:
        calls.append(out)
        return 0

    monkeypatch.setattr(demo_module, "main", fake_demo)
    assert cli.main(["demo"]) == 0
    assert len(calls) == 1


def test_ctrl_c_wrapped_in_a_task_group_is_still_an_interrupt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if sys.version_info < (3, 11):
        pytest.skip("BaseExceptionGroup is builtin from 3.11")
    group = vars(builtins)["BaseExceptionGroup"]  # (mypy checks as 3.10, which lacks it)

    def interrupted(*args: object, **kwargs: object) -> int:
        raise group("batch", [KeyboardInterrupt()])

    monkeypatch.setenv("CODEOCEAN_DOMAIN", "acme.codeocean.com")
    monkeypatch.setenv("CODEOCEAN_API_TOKEN", "cop_x")
    monkeypatch.setattr(cli.anyio, "run", interrupted)
    assert cli.main(["capsule", "get", "c"]) == 130
    assert capsys.readouterr().err.endswith("interrupted\n")
