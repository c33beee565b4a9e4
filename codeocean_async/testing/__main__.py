"""Serve the fake Code Ocean with demo data on a real socket: python -m codeocean_async.testing."""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from collections.abc import Sequence

from ._app import DEMO_CAPSULE_ID, DEMO_DATA_ASSET_ID, FakeCodeOcean
from ._server import serve_in_thread

PROG = "python -m codeocean_async.testing"


def _wait_forever() -> None:
    """Block until Ctrl-C (KeyboardInterrupt)."""
    threading.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve a fake Code Ocean holding a demo capsule and data asset until Ctrl-C.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0 = any free port)")
    parser.add_argument("--token", default=None, help="access token to accept (random if unset)")
    args = parser.parse_args(argv)
    fake = FakeCodeOcean.with_demo_data(token=args.token, base_time=int(time.time()))
    with contextlib.ExitStack() as stack:
        try:
            # The storage host of the signed file URLs, on a port of its own.
            fake.storage.base_url = stack.enter_context(
                serve_in_thread(fake.storage, host=args.host)
            )
            url = stack.enter_context(serve_in_thread(fake, host=args.host, port=args.port))
        except ImportError as exc:
            if exc.name != "uvicorn":
                raise
            print(f"{PROG}: {exc}", file=sys.stderr)
            return 1
        print(f"CODEOCEAN_DOMAIN={url}")
        print(f"CODEOCEAN_API_TOKEN={fake.token}")
        print(f"CODEOCEAN_CAPSULE_ID={DEMO_CAPSULE_ID}")
        print(f"CODEOCEAN_DATA_ASSET_ID={DEMO_DATA_ASSET_ID}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            _wait_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
