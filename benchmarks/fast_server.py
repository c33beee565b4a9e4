"""A minimal fast server with canned Code Ocean answers, to measure the client's own cost.

Run by the benchmarks as ``python -m benchmarks.fast_server [--cpu N]``. The fake Code Ocean keeps
state and moves runs through their lives, which costs server CPU: against it, raw aiohttp keeps
the server's core nearly 100% busy, and a saturated server hides what each client costs. This
server answers from prebuilt bytes (a capsule, a computation with a fresh ID per launch, a
finished computation) on uvicorn with ``httptools`` and ``uvloop``, so its core stays well under
half busy and the client's CPU per request is what the figures show.

It prints one JSON line (url, token, capsule_id, pid) once it serves, as ``benchmarks.server``
does, and stops when its stdin closes. Routes (Basic auth is not checked; nothing is stored):

- ``GET /api/v1/capsules/{id}``: one capsule;
- ``POST /api/v1/computations``: a new computation, ``initializing``, with a fresh ID;
- ``GET /api/v1/computations/{id}``: that computation, ``completed`` and succeeded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from .server import serve

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TOKEN = "cop_fast_benchmark_token"
CAPSULE_ID = "631e5a2f-8118-4e42-86ba-90b374bf2108"
OWNER = "467ef120-2c93-42eb-8865-5866004243bf"
_CAPSULE = json.dumps(
    {
        "id": CAPSULE_ID,
        "created": 1700000000,
        "name": "deepTools-bamCoverage",
        "status": "release",
        "owner": OWNER,
        "owner_email": "owner@example.com",
        "slug": "7607289",
        "tags": ["ChIP", "Normalization"],
        "versions": [
            {"major_version": 1, "minor_version": 0, "release_time": 1700086400},
            {"major_version": 2, "minor_version": 0, "release_time": 1700172800},
        ],
    }
).encode()
# A computation whose ID is spliced in per answer: 36 characters, as a UUID's.
_RUN_HEAD, _RUN_TAIL = (
    part.encode()
    for part in json.dumps(
        {
            "id": "@",
            "created": 1700000000,
            "name": "Run 7607289",
            "owner": OWNER,
            "owner_email": "owner@example.com",
            "run_time": 0,
            "state": "initializing",
            "has_results": False,
            "cloud_workstation": False,
            "data_assets": [],
            "parameters": [],
        }
    ).split('"@"')
)
_DONE = json.dumps(
    {
        "id": "5708364c-0000-4000-8000-000000000000",
        "created": 1700000000,
        "name": "Run 7607289",
        "owner": OWNER,
        "run_time": 2,
        "state": "completed",
        "end_status": "succeeded",
        "exit_code": 0,
        "has_results": True,
    }
).encode()
_NOT_FOUND = b'{"message": "not found"}'
_counter = itertools.count()


def _answer(method: str, path: str) -> tuple[int, bytes]:
    if method == "GET" and path.startswith("/api/v1/capsules/"):
        return 200, _CAPSULE
    if method == "POST" and path == "/api/v1/computations":
        run_id = f'"{next(_counter):08x}-5708-4364-8000-000000000000"'.encode()
        return 200, _RUN_HEAD + run_id + _RUN_TAIL
    if method == "GET" and path.startswith("/api/v1/computations/"):
        return 200, _DONE
    return 404, _NOT_FOUND


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """The ASGI app: canned answers, no state."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    while (await receive()).get("more_body", False):
        pass
    status, body = _answer(scope["method"], scope["path"])
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fast_server", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None, help="pin this process to one core")
    # Accepted for the benchmarks' Server class, which names a scenario; all are served alike.
    parser.add_argument("--scenario", default=None)
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args(argv)
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    server, url = serve(app, args.port, loop="uvloop", http="httptools")
    info = {"url": url, "token": TOKEN, "capsule_id": CAPSULE_ID, "pid": os.getpid()}
    print(json.dumps(info), flush=True)
    sys.stdin.read()  # until the benchmarks close our stdin (or die)
    server.should_exit = True
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
