"""The fake Code Ocean in its own process, seeded for one scenario, with a /bench/ stats route.

Run by the benchmarks as ``python -m benchmarks.server --port 0 --scenario NAME [--cpu N]``.
It prints one JSON line (url, token, capsule_id, pid) once it serves, and stops when its stdin
closes. Besides the fake's routes it answers (without auth, never counted):

- ``GET /bench/stats``: requests received by kind, and when each run started since the last
  reset will complete (``time.monotonic()`` seconds, comparable across processes on Linux);
- ``POST /bench/reset``: zero the counters, forget the completions and the fake's request log;
- ``POST /bench/capsule?durations=a,b,c``: a new capsule whose runs take those phases.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from codeocean_async.testing import FakeCodeOcean

from ._seed import DATA_ASSET_ID, computation_extras, memory_ids

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SCENARIOS = ("per_request", "fanout", "launch_wait", "memory")


def _kind(method: str, path: str) -> str:
    parts = path.strip("/").split("/")[2:]  # after api/v1
    if method == "POST" and parts == ["computations"]:
        return "run"
    if method == "GET" and len(parts) == 2 and parts[0] == "computations":
        return "get_computation"
    if method == "GET" and len(parts) == 3 and parts[2] == "computations":
        return "list_computations"
    if method == "GET" and len(parts) == 2 and parts[0] == "capsules":
        return "get_capsule"
    return f"{method} other"


class BenchApp:
    """Wraps a FakeCodeOcean: counts requests, knows when runs complete, serves /bench/."""

    def __init__(self, fake: FakeCodeOcean) -> None:
        self.fake = fake
        self.counts: Counter[str] = Counter()
        self.completions: dict[str, float] = {}
        self.totals: dict[str, float] = {}  # capsule id -> seconds a run of it takes

    def add_capsule(self, durations: Sequence[float], **kwargs: Any) -> str:
        capsule = self.fake.add_capsule(run_durations=durations, **kwargs)
        self.totals[capsule["id"]] = float(sum(durations))
        return str(capsule["id"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fake(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path.startswith("/bench/"):
            await self._bench(scope, receive, send)
            return
        kind = _kind(method, path)
        self.counts[kind] += 1
        if kind != "run":
            await self.fake(scope, receive, send)
            return
        await self._run(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a launch, noting when the run it starts will complete."""
        arrived = time.monotonic()
        chunks: list[bytes] = []
        request_body: list[bytes] = []

        async def tap_receive() -> Message:
            message = await receive()
            request_body.append(message.get("body", b""))
            return message

        async def tap_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        await self.fake(scope, tap_receive, tap_send)
        try:
            answer, asked = json.loads(b"".join(chunks)), json.loads(b"".join(request_body))
        except ValueError:
            return
        total = self.totals.get(str(asked.get("capsule_id")))
        if isinstance(answer, dict) and "id" in answer and total is not None:
            self.completions[answer["id"]] = arrived + total

    async def _bench(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body", False):
            pass
        path = scope["path"]
        body: Any
        if path == "/bench/stats":
            body = {"requests": dict(self.counts), "completions": self.completions}
        elif path == "/bench/reset":
            self.counts.clear()
            self.completions = {}
            self.fake.reset_requests()
            body = {"ok": True}
        elif path == "/bench/capsule":
            query = parse_qs(scope.get("query_string", b"").decode())
            durations = [float(d) for d in query.get("durations", ["1,1,1"])[0].split(",")]
            body = {"id": self.add_capsule(durations)}
        else:
            body = {"message": "unknown bench route"}
        content = json.dumps(body).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(content)),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": content})


def seed(app: BenchApp, scenario: str, count: int) -> str:
    """Store what ``scenario`` needs; return the ID of its main capsule."""
    fake = app.fake
    fake.add_data_asset(id=DATA_ASSET_ID, name="Alignment", mount="Alignment")
    durations = {"launch_wait": (0.3, 1.4, 0.3), "memory": (0.0, 86_400.0, 0.0)}
    capsule_id = app.add_capsule(
        durations.get(scenario, (60.0, 60.0, 60.0)),
        name="deepTools-bamCoverage",
        versions=(1, 2),
        description="Generates a coverage track (bigWig or bedGraph) from a BAM alignment.",
        field="Bioinformatics",
        tags=("ChIP", "Normalization"),
    )
    if scenario == "memory":
        for index, cid in enumerate(memory_ids(count)):
            fake.add_computation(
                capsule_id=capsule_id,
                durations=(0.0, 86_400.0, 0.0),
                id=cid,
                **computation_extras(index),
            )
    return capsule_id


def serve(app: Any, port: int, **options: Any) -> tuple[uvicorn.Server, str]:
    """Start uvicorn on 127.0.0.1:``port`` in a daemon thread, configured as serve_in_thread does.

    ``options`` go to ``uvicorn.Config`` (the fast server picks its event loop and HTTP parser).

    The socket is made with ``IPPROTO_TCP`` so that asyncio turns Nagle's algorithm off on each
    connection: with ``proto=0`` it does not, and an answer written as head then body waits for
    the client's delayed ACK (about 40 ms per request on Linux).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        date_header=False,  # the fake sends its own, from its clock
        backlog=4096,
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the benchmark server did not start")
        threading.Event().wait(0.005)
    return server, f"http://127.0.0.1:{sock.getsockname()[1]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scenario", choices=SCENARIOS, required=True)
    parser.add_argument("--count", type=int, default=10_000, help="computations to seed (memory)")
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    app = BenchApp(FakeCodeOcean(base_time=int(time.time())))
    capsule_id = seed(app, args.scenario, args.count)
    server, url = serve(app, args.port)
    info = {"url": url, "token": app.fake.token, "capsule_id": capsule_id, "pid": os.getpid()}
    print(json.dumps(info), flush=True)
    sys.stdin.read()  # until the benchmarks close our stdin (or die)
    server.should_exit = True
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
