"""The CLI as a process: Ctrl-C and SIGTERM never lose a run; uncertain launches are said once."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from codeocean_async.testing import FakeCodeOcean, Fault, serve_in_thread

PROG = "codeocean-async"
BOUND = 30.0  # seconds: every wait in these tests ends by then, whatever the child does
SIGNALS = [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
STATE = re.compile(r"^\d\d:\d\d:\d\d  (\S+)  (\S+)$")


class Child:
    """``python -m codeocean_async ARGV`` with its output read as it comes."""

    def __init__(self, argv: list[str], url: str | None, token: str) -> None:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env = {k: v for k, v in env.items() if not k.startswith("CODEOCEAN_")}
        if url is not None:
            env.update(CODEOCEAN_DOMAIN=url, CODEOCEAN_API_TOKEN=token)
        self.token = token
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "codeocean_async", *argv],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: dict[str, list[str]] = {"out": [], "err": []}
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(stream, self.lines[name]), daemon=True)
            for name, stream in (("out", self.proc.stdout), ("err", self.proc.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, stream: Any, into: list[str]) -> None:
        for line in itertools.chain(stream, [""]):  # "" at the end: the stream is closed
            with self._changed:
                into.append(line)
                self._changed.notify_all()

    def wait_for(self, pattern: str, stream: str = "out") -> str:
        """The first line of ``stream`` matching ``pattern``, once it has come."""
        deadline = time.monotonic() + BOUND
        with self._changed:
            while time.monotonic() < deadline:
                for line in self.lines[stream]:
                    if re.search(pattern, line):
                        return line
                if self.lines[stream][-1:] == [""]:
                    break
                self._changed.wait(timeout=deadline - time.monotonic())
        self.proc.kill()
        raise AssertionError(f"no {pattern!r} on std{stream}: {self.lines}")

    def stop(self, sig: signal.Signals) -> tuple[int, str, str]:
        self.proc.send_signal(sig)
        return self.finish()

    def finish(self) -> tuple[int, str, str]:
        try:
            code = self.proc.wait(timeout=BOUND)
        finally:
            self.proc.kill()
        for reader in self._readers:
            reader.join(timeout=BOUND)
        for stream in (self.proc.stdout, self.proc.stderr):
            assert stream is not None
            stream.close()
        out, err = "".join(self.lines["out"]), "".join(self.lines["err"])
        assert self.token not in out + err
        assert "Traceback" not in err
        return code, out, err


@contextlib.contextmanager
def holding_server() -> Iterator[tuple[str, threading.Event]]:
    """A raw HTTP server on loopback that reads each request and never answers it.

    Yields its URL and an event set once a request has arrived whole; it stops by itself at
    the end of the block (or after ``BOUND`` seconds).
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    received, done = threading.Event(), threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        deadline = time.monotonic() + BOUND
        while not done.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            held.append(conn)
            conn.settimeout(BOUND)
            data = b""
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                match = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
                while match and len(body) < int(match.group(1)):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    body += chunk
            received.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        done.set()
        thread.join(timeout=BOUND)
        for conn in held:
            conn.close()
        listener.close()


@pytest.fixture
def fake() -> FakeCodeOcean:
    """A fake on the real clock whose runs take ten minutes in each state."""
    fake = FakeCodeOcean(base_time=int(time.time()))
    fake.add_capsule(id="cap-1", run_durations=(600, 600, 600))
    return fake


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS)
@pytest.mark.parametrize("json_mode", [False, True])
def test_a_signal_while_the_run_request_is_on_its_way_says_it_may_have_started(
    sig: signal.Signals, code: int, word: str, json_mode: bool
) -> None:
    with holding_server() as (url, received):
        child = Child(["run", "cap-1", *(["--json"] if json_mode else [])], url, "cop_x")
        assert received.wait(BOUND)
        status, out, err = child.stop(sig)
    assert status == code
    assert err == (
        f"{PROG}: {word}: the run request was on its way: it may or may not have started a "
        f"computation; check `{PROG} computations list cap-1`\n"
    )
    if json_mode:
        doc = json.loads(out)
        assert doc["computation"] is None
        assert doc["uncertain"] is True
        assert doc["spec"] == {"capsule_id": "cap-1"}
    else:
        assert out == ""


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS)
@pytest.mark.parametrize("json_mode", [False, True])
def test_a_signal_while_run_waits_names_the_computation_it_started(
    fake: FakeCodeOcean, sig: signal.Signals, code: int, word: str, json_mode: bool
) -> None:
    argv = ["run", "cap-1", "--wait", *(["--json"] if json_mode else [])]
    with serve_in_thread(fake) as url:
        child = Child(argv, url, fake.token)
        child.wait_for(r"  initializing$", "err" if json_mode else "out")
        status, out, err = child.stop(sig)
    (cid,) = fake.created_computations
    assert status == code
    assert err.splitlines()[-1] == (
        f"{PROG}: {word}: computation {cid} was started and keeps running (last seen "
        f"initializing); follow it with `{PROG} wait {cid}`"
    )
    if json_mode:
        doc = json.loads(out)  # stdout is still exactly one document: the last state seen
        assert (doc["id"], doc["state"], doc["outcome"]) == (cid, "initializing", "not_finished")
    else:
        assert [STATE.match(line) is not None for line in out.splitlines()] == [True]


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS)
@pytest.mark.parametrize("json_mode", [False, True])
def test_a_signal_while_waiting_names_the_computation_and_its_last_state(
    fake: FakeCodeOcean, sig: signal.Signals, code: int, word: str, json_mode: bool
) -> None:
    fake.add_computation(capsule_id="cap-1", id="c-long", durations=(0, 600, 600))
    with serve_in_thread(fake) as url:
        child = Child(["wait", "c-long", *(["--json"] if json_mode else [])], url, fake.token)
        child.wait_for(r"c-long  running$", "err" if json_mode else "out")
        status, out, err = child.stop(sig)
    assert status == code
    assert err.splitlines()[-1] == (
        f"{PROG}: {word}: computation c-long keeps running (last seen running); "
        f"follow it with `{PROG} wait c-long`"
    )
    if json_mode:
        assert json.loads(out)["state"] == "running"


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS)
def test_a_signal_stops_run_many_with_its_summary(
    fake: FakeCodeOcean, tmp_path: Any, sig: signal.Signals, code: int, word: str
) -> None:
    specs = tmp_path / "specs.jsonl"
    specs.write_text('{"capsule_id": "cap-1"}\n{"capsule_id": "cap-1", "parameters": ["2"]}\n')
    with serve_in_thread(fake) as url:
        child = Child(["run-many", str(specs), "--wait"], url, fake.token)
        for index in (0, 1):
            child.wait_for(rf"spec {index}  \S+  launched$")
        status, _, err = child.stop(sig)
    assert status == code
    started = fake.created_computations
    assert len(started) == 2
    *_, cancelled, last = err.splitlines()
    assert cancelled.startswith(f"{PROG}: cancelled: 2 computations started and keep running: ")
    assert set(cancelled.partition("running: ")[2].split("; ")[0].split(", ")) == set(started)
    assert last == f"{PROG}: {word}"


def test_sigterm_during_a_read_exits_143_with_one_line() -> None:
    with holding_server() as (url, received):
        child = Child(["capsule", "get", "cap-1", "--json"], url, "cop_x")
        assert received.wait(BOUND)
        status, out, err = child.stop(signal.SIGTERM)
    assert (status, out, err) == (143, "", f"{PROG}: terminated\n")


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS)
def test_a_signal_stops_the_demo_with_one_line(sig: signal.Signals, code: int, word: str) -> None:
    child = Child(["demo"], None, "cop_not_used_0123456789")
    child.wait_for(r"^Waiting")
    status, _, err = child.stop(sig)
    assert (status, err) == (code, f"{PROG} demo: {word}\n")  # the embedded fake's runs end too


# --- an uncertain launch, said once ----------------------------------------------------------


@pytest.mark.parametrize("json_mode", [False, True])
def test_an_uncertain_launch_is_said_once_naming_a_flag_that_exists(
    fake: FakeCodeOcean, json_mode: bool
) -> None:
    fake.faults.script("POST", "/computations", Fault.drop_after())
    with serve_in_thread(fake) as url:
        child = Child(["run", "cap-1", *(["--json"] if json_mode else [])], url, fake.token)
        status, out, err = child.finish()
    assert status == 3
    (line,) = err.splitlines()  # one line: no log record repeating it
    assert line.startswith(
        f"{PROG}: error: the run request may or may not have started a computation ("
    )
    assert line.endswith(
        f"; it was not resent: check `{PROG} computations list cap-1` before running it again, "
        "or pass --on-uncertain reconcile"
    )
    assert err.count("may or may not") == 1
    assert "on_uncertain=" not in err
    if json_mode:
        doc = json.loads(out)
        assert doc["uncertain"] is True
        assert doc["spec"] == {"capsule_id": "cap-1"}
        assert doc["error"] == line.removeprefix(f"{PROG}: error: ")
    assert len(fake.created_computations) == 1  # it did start one, and it was not resent


def test_on_uncertain_reconcile_finds_the_run_and_verbose_shows_the_log(
    fake: FakeCodeOcean,
) -> None:
    fake.faults.script("POST", "/computations", Fault.drop_after())
    with serve_in_thread(fake) as url:
        child = Child(["run", "cap-1", "--on-uncertain", "reconcile", "-v"], url, fake.token)
        status, out, err = child.finish()
    (cid,) = fake.created_computations
    assert status == 0
    assert f"Started computation {cid}" in out
    assert "may or may not have started a computation" in err  # the library's WARNING, with -v
    assert err.count("\n") >= 1
    assert all(line.startswith(f"{PROG}: codeocean_async") for line in err.splitlines())


@pytest.mark.parametrize("reconcile", [False, True])
def test_run_many_passes_on_uncertain_to_the_batch(
    fake: FakeCodeOcean, tmp_path: Any, reconcile: bool
) -> None:
    fake.faults.script("POST", "/computations", Fault.drop_after())
    specs = tmp_path / "specs.jsonl"
    specs.write_text('{"capsule_id": "cap-1"}\n')
    argv = [
        "run-many",
        str(specs),
        "--json",
        *(["--on-uncertain", "reconcile"] if reconcile else []),
    ]
    with serve_in_thread(fake) as url:
        status, out, err = Child(argv, url, fake.token).finish()
    (cid,) = fake.created_computations
    (doc,) = json.loads(out)
    assert doc["uncertain"] is not reconcile
    assert status == (0 if reconcile else 1)
    assert (doc["computation"] or {}).get("id") == (cid if reconcile else None)
    # Said once, by the uncertain launch's progress line (not repeated by a log record), then
    # what to do, once, naming the command line's flag rather than the library's keyword.
    assert err.count("may or may not have started a computation") == (0 if reconcile else 1)
    assert err.count("--on-uncertain reconcile") == (0 if reconcile else 1)
    assert "on_uncertain=" not in out + err
    if not reconcile:
        assert err.splitlines()[-1] == (
            f"{PROG}: 1 launch may or may not have started: check "
            f"`{PROG} computations list cap-1` before running it again, "
            "or pass --on-uncertain reconcile"
        )


# --- run-many --json: a signal still leaves one document ---------------------------------------


def _stopped_batch(out: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The one JSON document of a stopped ``run-many --json``: one object per spec, in order."""
    docs = json.loads(out)
    assert [(d["index"], d["spec"]) for d in docs] == list(enumerate(specs))
    for doc in docs:
        assert set(doc) >= {"computation", "attempts", "error", "uncertain", "not_sent"}
    assert isinstance(docs, list)
    return docs


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS)
def test_a_signal_stops_run_many_json_with_the_document_of_what_is_known(
    fake: FakeCodeOcean, tmp_path: Any, sig: signal.Signals, code: int, word: str
) -> None:
    specs = [{"capsule_id": "cap-1"}, {"capsule_id": "cap-gone"}, {"capsule_id": "cap-1"}]
    path = tmp_path / "specs.jsonl"
    path.write_text("".join(json.dumps(spec) + "\n" for spec in specs))
    with serve_in_thread(fake) as url:
        child = Child(["run-many", str(path), "--json", "--wait"], url, fake.token)
        child.wait_for(r"spec 1  -  launch failed", "err")
        for index in (0, 2):
            child.wait_for(rf"spec {index}  \S+  launched$", "err")
        status, out, err = child.stop(sig)
    assert status == code
    assert err.splitlines()[-1] == f"{PROG}: {word}"
    first, gone, third = _stopped_batch(out, specs)
    assert {first["computation"]["id"], third["computation"]["id"]} == set(
        fake.created_computations
    )
    for doc in (first, third):
        assert doc["attempts"] == [doc["computation"]["id"]]
        assert doc["computation"]["outcome"] == "not_finished"  # it keeps running
        assert (doc["error"], doc["uncertain"], doc["not_sent"]) == (None, False, False)
    assert (gone["computation"], gone["attempts"], gone["uncertain"]) == (None, [], False)
    assert "not found" in gone["error"]


@pytest.mark.parametrize(("sig", "code", "word"), SIGNALS)
def test_a_signal_with_run_requests_on_their_way_documents_them_as_uncertain(
    tmp_path: Any, sig: signal.Signals, code: int, word: str
) -> None:
    specs = [{"capsule_id": "cap-1"}, {"capsule_id": "cap-2"}, {"capsule_id": "cap-3"}]
    path = tmp_path / "specs.jsonl"
    path.write_text("".join(json.dumps(spec) + "\n" for spec in specs))
    with holding_server() as (url, received):
        child = Child(["run-many", str(path), "--json", "--concurrency", "1"], url, "cop_x")
        assert received.wait(BOUND)
        status, out, err = child.stop(sig)
    assert status == code
    assert err.splitlines()[-1] == f"{PROG}: {word}"
    on_its_way, *never_sent = _stopped_batch(out, specs)
    assert (on_its_way["computation"], on_its_way["uncertain"]) == (None, True)
    assert on_its_way["not_sent"] is False
    assert "may or may not have started a computation" in on_its_way["error"]
    for doc in never_sent:
        assert (doc["computation"], doc["attempts"], doc["uncertain"]) == (None, [], False)
        assert (doc["not_sent"], doc["error"]) == (True, "not sent")
