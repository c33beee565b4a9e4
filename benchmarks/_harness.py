"""Running benchmarks: options, core pinning, the server subprocess, timed spans, round-robin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil  # type: ignore[import-untyped]

from ._report import Row, median_of

__all__ = ["ROOT", "Options", "Server", "Span", "pin_client", "round_robin"]

ROOT = Path(__file__).resolve().parent.parent
_START_TIMEOUT = 120.0


@dataclass
class Options:
    """What the command line asked for."""

    quick: bool = False
    rounds: int | None = None
    server_cpu: int | None = None

    def pick(self, full: int, quick: int) -> int:
        """A size: ``full`` normally, ``quick`` with --quick."""
        return quick if self.quick else full

    def rounds_for(self, full: int = 5, quick: int = 1) -> int:
        """Rounds for a scenario: --rounds if given, else its own default."""
        return self.rounds if self.rounds is not None else self.pick(full, quick)


def pin_client() -> tuple[int | None, str]:
    """Pin this process to the first usable core; return the core for the server, and a note."""
    try:
        cores = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return None, "not pinned (no sched_setaffinity here)"
    if len(cores) < 2:
        return None, "not pinned (one core)"
    os.sched_setaffinity(0, {cores[0]})
    return cores[1], f"client on core {cores[0]}, server on core {cores[1]}"


class Server:
    """The fake Code Ocean in a subprocess (``python -m benchmarks.server``), seeded; or, with
    ``module="benchmarks.fast_server"``, the canned-answer server that measures client cost."""

    def __init__(
        self, scenario: str, *, cpu: int | None, count: int = 0, module: str = "benchmarks.server"
    ) -> None:
        command = [sys.executable, "-m", module, "--scenario", scenario]
        command += ["--count", str(count)]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        self.proc = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(_START_TIMEOUT)
            raise RuntimeError(f"the benchmark server exited ({self.proc.returncode})")
        info = json.loads(line)
        self.url: str = info["url"]
        self.token: str = info["token"]
        self.capsule_id: str = info["capsule_id"]
        self.process = psutil.Process(self.proc.pid)
        self._cpu_at_start = self.cpu()

    def cpu(self) -> float:
        """CPU seconds (user + system) the server has used so far."""
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def cpu_used(self) -> float:
        """CPU seconds the server used since it served (seeding excluded)."""
        return self.cpu() - self._cpu_at_start

    def _call(self, method: str, path: str) -> Any:
        request = urllib.request.Request(self.url + path, method=method)
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read())

    def stats(self) -> dict[str, Any]:
        """Requests by kind and run completion times since the last reset."""
        result: dict[str, Any] = self._call("GET", "/bench/stats")
        return result

    def reset(self) -> None:
        self._call("POST", "/bench/reset")

    def new_capsule(self, durations: Sequence[float]) -> str:
        """A fresh capsule whose runs take ``durations`` (initializing, running, finalizing)."""
        query = ",".join(str(d) for d in durations)
        return str(self._call("POST", f"/bench/capsule?durations={query}")["id"])

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Span:
    """Times a block: wall seconds, this process's CPU seconds, and the server's CPU seconds."""

    def __init__(self, server: Server | None = None) -> None:
        self.server = server
        self.wall = self.cpu = self.server_cpu = 0.0

    def __enter__(self) -> Span:
        self._server0 = self.server.cpu() if self.server else 0.0
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0
        if self.server:
            self.server_cpu = self.server.cpu() - self._server0

    @property
    def client_load(self) -> float:
        """This process's CPU seconds per wall second (1.0: its core was the limit)."""
        return self.cpu / self.wall if self.wall else 0.0

    @property
    def server_load(self) -> float:
        """Server CPU seconds per wall second: near 1.0, the server's core was the limit."""
        return self.server_cpu / self.wall if self.wall else 0.0


Variant = tuple[str, Callable[[], dict[str, float]]]


def round_robin(name: str, variants: Sequence[Variant], rounds: int) -> list[Row]:
    """Run every variant once per round, in order (sdk, peer1, peer2, sdk, ...); median rows."""
    results: dict[str, list[dict[str, float]]] = {label: [] for label, _ in variants}
    for number in range(1, rounds + 1):
        started = time.perf_counter()
        for label, run in variants:
            results[label].append(run())
        took = time.perf_counter() - started
        print(f"  [{name}] round {number}/{rounds} took {took:.1f} s", file=sys.stderr, flush=True)
    return [Row(label, median_of(rounds_), rounds_) for label, rounds_ in results.items()]
