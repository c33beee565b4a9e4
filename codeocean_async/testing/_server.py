"""serve_in_thread: run a FakeCodeOcean on a real socket with uvicorn in a daemon thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["MISSING_UVICORN", "serve_in_thread"]

#: Why the fake cannot be served on a socket without the ``testing`` extra, and what to install.
MISSING_UVICORN = (
    "serving the fake Code Ocean on a socket needs uvicorn: "
    "pip install 'codeocean-async[testing]' (from a clone of the repository: "
    "pip install '.[testing]')"
)

_START_TIMEOUT = 10.0


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for uvicorn to serve on.

    It is made with ``proto=IPPROTO_TCP``: asyncio sets ``TCP_NODELAY`` only on connections of
    sockets it knows are TCP, and without it each answer's head and body wait on the client's
    delayed ACK (about 40 ms a request).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


@contextmanager
def serve_in_thread(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` (an ASGI app, usually a FakeCodeOcean) and yield its base URL.

    ``port=0`` picks a free port. The server stops when the block exits. Needs uvicorn:
    ``pip install 'codeocean-async[testing]'``.
    """
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(MISSING_UVICORN, name="uvicorn") from exc

    sock = listening_socket(host, port)
    family = sock.family
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=bound_port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        date_header=False,  # the fake sends its own, from its clock
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"fake-codeocean-{bound_port}",
        daemon=True,
    )
    thread.start()
    tick = threading.Event()
    waited = 0.0
    while not server.started:
        if not thread.is_alive() or waited > _START_TIMEOUT:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"the fake Code Ocean did not start on {host}:{bound_port}")
        tick.wait(0.005)
        waited += 0.005
    shown_host = f"[{host}]" if family == socket.AF_INET6 else host
    try:
        yield f"http://{shown_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=_START_TIMEOUT)
