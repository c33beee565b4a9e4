"""The command line: ``codeocean-async`` (or ``python -m codeocean_async``) over the async client.

Commands::

    codeocean-async capsule get ID [--pipeline]
    codeocean-async computations list CAPSULE_ID [--pipeline]
    codeocean-async run CAPSULE_ID [--pipeline] [--version N] [--data-asset ID[:MOUNT]]...
                        [--param VALUE]... [--named-param NAME=VALUE]... [--wait] [--timeout S]
                        [--on-uncertain raise|reconcile]
    codeocean-async wait COMPUTATION_ID [--timeout S]
    codeocean-async run-many SPECS.jsonl [--concurrency N] [--wait] [--timeout S] [...]
    codeocean-async results ID [PATH] [--recursive]
    codeocean-async download ID PATH [DEST] [--timeout S]
    codeocean-async capture ID --name NAME --mount MOUNT [--tag T]... [--no-wait] [--timeout S]
    codeocean-async data-assets get ID
    codeocean-async data-assets search [QUERY] [--limit N] [--all]
    codeocean-async capsules search [QUERY] [--pipelines] [--limit N] [--all]
    codeocean-async demo

Every command takes ``--json``: stdout then holds exactly one JSON document (a list for
``computations list`` and ``run-many``) and progress while waiting goes to stderr. Without it,
each state change prints as ``HH:MM:SS  <computation id>  <state>`` (local time) as it is seen.
``-v`` shows the library's log (retries, failed requests) on stderr; ``-vv`` every request.

Ctrl-C or SIGTERM stops a command and says what it leaves behind: the computation it started
or followed (it keeps running), or a run request that was on its way (it may or may not have
started one); with ``--json``, stdout holds the document of what is known.

configuration (the token is never taken on the command line, and never printed):
  CODEOCEAN_DOMAIN     the deployment, e.g. acme.codeocean.com (--domain overrides it)
  CODEOCEAN_API_TOKEN  the access token

exit codes:
  0    success (or launched, for run without --wait)
  1    a computation finished as failed, stopped or failed start (run-many: or a launch failed)
  2    bad usage or input (nothing was sent)
  3    API or connection error, or missing configuration (one line on stderr)
  4    the wait timed out (the computation keeps running)
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM)
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import TextIO

import anyio

from ._cli_data import DATA_COMMANDS, add_data_commands
from ._cli_output import PROG, Exit, Output, UsageError
from ._cli_parser import build_parser as _build_parser
from ._cli_parser import check_id_arg, check_timeout_arg, run_params, target_id
from ._cli_progress import run_many
from ._cli_stop import is_interrupt, until_stopped
from ._client import ENV_TOKEN, AsyncCodeOcean
from ._errors import (
    AuthenticationError,
    CodeOceanError,
    ConfigurationError,
    LaunchUncertainError,
    WaitTimeoutError,
)
from .models import Computation, Outcome

__all__ = ["COMMANDS", "build_parser", "client_from_env", "main", "run_command"]

_EPILOG = "configuration (" + (__doc__ or "").partition("configuration (")[2]  # python -OO: no doc

Handler = Callable[[argparse.Namespace, AsyncCodeOcean, Output], Awaitable[int]]


# --- commands ----------------------------------------------------------------------------------


async def _capsule_get(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    target = target_id(args)
    routes = client.pipelines if args.pipeline else client.capsules
    ui.capsule(await routes.get(target))
    return Exit.OK


async def _computations_list(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    target = target_id(args)
    routes = client.pipelines if args.pipeline else client.capsules
    ui.computations(await routes.list_computations(target), target)
    return Exit.OK


async def _follow(
    client: AsyncCodeOcean, computation: Computation | str, timeout: float | None, ui: Output
) -> int:
    known = ui.known
    known.waiting_on = computation if isinstance(computation, str) else computation.id

    def on_update(seen: Computation) -> None:
        known.last_seen = seen
        ui.state(seen)

    final = await client.computations.wait_for_completion(
        computation, timeout=timeout, on_update=on_update
    )
    known.last_seen = final
    ui.finished(final)
    return Exit.OK if final.outcome is Outcome.SUCCEEDED else Exit.NOT_SUCCEEDED


async def _run(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    params = run_params(args)
    ui.known.launching = params  # until an answer comes: a signal now leaves it uncertain
    try:
        computation = await client.computations.run(params)
    except LaunchUncertainError as exc:
        ui.known.launching = None
        ui.uncertain(params, exc)
        return Exit.API_ERROR
    except Exception:
        ui.known.launching = None  # a definite answer: nothing started
        raise
    ui.known.launching, ui.known.started = None, computation
    if not args.wait:
        ui.launched(computation)
        return Exit.OK
    try:
        return await _follow(client, computation, args.timeout, ui)
    except WaitTimeoutError:
        raise
    except CodeOceanError as exc:  # name the computation that did start, so it is not lost
        raise CodeOceanError(
            f"computation {computation.id} was started, but waiting on it failed: {exc}"
        ) from exc


async def _wait(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    computation_id = check_id_arg(args.computation_id, "computation id")
    return await _follow(client, computation_id, check_timeout_arg(args.timeout), ui)


#: Subcommand (as set by ``build_parser``) -> handler. Add a command here and in build_parser.
COMMANDS: dict[str, Handler] = {
    "capsule get": _capsule_get,
    "computations list": _computations_list,
    "run": _run,
    "wait": _wait,
    "run-many": run_many,
    **DATA_COMMANDS,
}


# --- parsing and entry points ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command; ``args.command`` names the handler in COMMANDS."""
    return _build_parser(_EPILOG, add_data_commands)


async def run_command(
    args: argparse.Namespace,
    client: AsyncCodeOcean,
    *,
    out: TextIO,
    err: TextIO,
    ui: Output | None = None,
) -> int:
    """Run the parsed command with an open client; write results to ``out``, errors to ``err``.

    Returns the exit code (see the module docstring). Cancellation is never caught: what the
    command started so far is in ``ui.known`` (pass ``ui`` to read it after a cancellation).
    """
    ui = ui or Output(out, err, json_mode=args.json)
    if getattr(args, "on_uncertain", None) is not None:
        client = client.with_options(on_uncertain=args.on_uncertain)
    ui.reconciling = client.on_uncertain == "reconcile"
    try:
        return await COMMANDS[args.command](args, client, ui)
    except UsageError as exc:
        ui.error(str(exc))
        return Exit.USAGE
    except WaitTimeoutError as exc:
        if ui.json_mode and exc.computation is not None:
            ui.document(exc.computation)  # the last state seen, so a script can come back to it
        ui.error(f"{exc}; it keeps running")
        return Exit.TIMEOUT
    except AuthenticationError as exc:
        ui.error(f"{exc} (check ${ENV_TOKEN})")
        return Exit.API_ERROR
    except CodeOceanError as exc:
        ui.error(str(exc))
        return Exit.API_ERROR


def client_from_env(domain: str | None = None) -> AsyncCodeOcean:
    """``AsyncCodeOcean.from_env()``, with ``domain`` (``--domain``) replacing $CODEOCEAN_DOMAIN."""
    return AsyncCodeOcean.from_env(domain=domain)


async def _main(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    ui = Output(out, err, json_mode=args.json)
    try:
        client = client_from_env(args.domain)
    except ConfigurationError as exc:
        ui.error(str(exc))
        return Exit.API_ERROR
    async with client:
        code, stopped = await until_stopped(
            lambda: run_command(args, client, out=out, err=err, ui=ui)
        )
        if stopped is not None:
            ui.stopped(stopped)  # before closing the client, which may take a moment
            return stopped
        assert code is not None
        return code


@contextlib.contextmanager
def _library_log(verbosity: int, err: TextIO) -> Iterator[None]:
    """The library's log records on ``err``: none by default, as the command says what matters
    itself; from INFO with ``-v``; from DEBUG with ``-vv``."""
    levels = {"codeocean_async": (logging.ERROR, logging.INFO, logging.DEBUG)[min(verbosity, 2)]}
    handlers = []
    for name, level in levels.items():
        logger = logging.getLogger(name)
        handler = logging.StreamHandler(err)
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter(f"{PROG}: %(name)s: %(levelname)s: %(message)s"))
        handlers.append((logger, handler, logger.level))
        logger.addHandler(handler)  # a handler: Python's last-resort one stays out of it
        if level < logging.WARNING:
            logger.setLevel(level)
    try:
        yield
    finally:
        for logger, handler, old in handlers:
            logger.removeHandler(handler)
            logger.setLevel(old)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already reported
        return exc.code if isinstance(exc.code, int) else Exit.USAGE
    try:
        with _library_log(args.verbose, sys.stderr):
            if args.command == "demo":  # it brings its own deployment: no client from the env
                from ._demo import main as demo

                return demo(sys.stdout)
            return anyio.run(_main, args, sys.stdout, sys.stderr, backend="asyncio")
    except BaseException as exc:
        if not is_interrupt(exc):
            raise
        sys.stderr.write(f"{PROG}: interrupted\n")
        return Exit.INTERRUPTED
