"""The command line: ``codeocean-async`` (or ``python -m codeocean_async``) over the async client.

Commands::

    codeocean-async capsule get ID [--pipeline]
    codeocean-async computations list CAPSULE_ID [--pipeline]
    codeocean-async run CAPSULE_ID [--pipeline] [--version N] [--data-asset ID[:MOUNT]]...
                        [--param VALUE]... [--named-param NAME=VALUE]... [--wait] [--timeout S]
    codeocean-async wait COMPUTATION_ID [--timeout S]
    codeocean-async run-many SPECS.jsonl [--concurrency N] [--wait] [--timeout S] [...]
    codeocean-async demo

Every command takes ``--json``: stdout then holds exactly one JSON document (a list for
``computations list`` and ``run-many``) and progress while waiting goes to stderr. Without it,
each state change prints as ``HH:MM:SS  <computation id>  <state>`` (local time) as it is seen.

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
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import anyio

from ._cli_output import PROG, Exit, Output, UsageError
from ._cli_progress import RUN_MANY_HELP, add_run_many_arguments, run_many
from ._client import ENV_DOMAIN, ENV_TOKEN, AsyncCodeOcean
from ._errors import AuthenticationError, CodeOceanError, ConfigurationError, WaitTimeoutError
from ._ids import check_id
from ._version import __version__
from .models import Computation, DataAssetsRunParam, NamedRunParam, Outcome, RunParams

__all__ = ["COMMANDS", "build_parser", "client_from_env", "main", "run_command"]

_EPILOG = "configuration (" + (__doc__ or "").partition("configuration (")[2]  # python -OO: no doc

if TYPE_CHECKING:
    _Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

Handler = Callable[[argparse.Namespace, AsyncCodeOcean, Output], Awaitable[int]]


# --- input checks ------------------------------------------------------------------------------


def _id(value: str, what: str) -> str:
    try:
        return check_id(value, what)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def _target(args: argparse.Namespace) -> str:
    return _id(args.target_id, "pipeline id" if args.pipeline else "capsule id")


def _timeout(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value >= 0):  # 0: one look
        raise UsageError(f"--timeout must be a number of seconds >= 0, not {value}")
    return value


def _data_asset(spec: str) -> DataAssetsRunParam:
    asset_id, colon, mount = spec.partition(":")
    if not asset_id:
        raise UsageError(f"--data-asset {spec!r}: the data asset id is empty (use ID[:MOUNT])")
    if colon and not mount:
        raise UsageError(f"--data-asset {spec!r}: the mount after ':' is empty (use ID[:MOUNT])")
    _id(asset_id, f"--data-asset {spec!r}: data asset id")
    return DataAssetsRunParam(asset_id, mount=mount or None)


def _named_params(specs: Sequence[str]) -> list[NamedRunParam]:
    result: dict[str, NamedRunParam] = {}
    for spec in specs:
        name, equals, value = spec.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"--named-param {spec!r}: expected NAME=VALUE")
        if name in result:
            raise UsageError(f"--named-param {name!r} is given more than once")
        result[name] = NamedRunParam(name, value)
    return list(result.values())


def _run_params(args: argparse.Namespace) -> RunParams:
    """The run request the ``run`` arguments describe; ``UsageError`` for bad input."""
    target = _target(args)
    if args.version is not None and args.version < 1:
        raise UsageError(f"--version must be a whole number >= 1, not {args.version}")
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout applies only with --wait")
    _timeout(args.timeout)
    return RunParams(
        capsule_id=None if args.pipeline else target,
        pipeline_id=target if args.pipeline else None,
        version=args.version,
        data_assets=[_data_asset(spec) for spec in args.data_asset] or None,
        parameters=list(args.param) or None,
        named_parameters=_named_params(args.named_param) or None,
    )


# --- commands ----------------------------------------------------------------------------------


async def _capsule_get(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    target = _target(args)
    routes = client.pipelines if args.pipeline else client.capsules
    ui.capsule(await routes.get(target))
    return Exit.OK


async def _computations_list(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    target = _target(args)
    routes = client.pipelines if args.pipeline else client.capsules
    ui.computations(await routes.list_computations(target), target)
    return Exit.OK


async def _follow(
    client: AsyncCodeOcean, computation: Computation | str, timeout: float | None, ui: Output
) -> int:
    final = await client.computations.wait_for_completion(
        computation, timeout=timeout, on_update=ui.state
    )
    ui.finished(final)
    return Exit.OK if final.outcome is Outcome.SUCCEEDED else Exit.NOT_SUCCEEDED


async def _run(args: argparse.Namespace, client: AsyncCodeOcean, ui: Output) -> int:
    computation = await client.computations.run(_run_params(args))
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
    computation_id = _id(args.computation_id, "computation id")
    return await _follow(client, computation_id, _timeout(args.timeout), ui)


#: Subcommand (as set by ``build_parser``) -> handler. Add a command here and in build_parser.
COMMANDS: dict[str, Handler] = {
    "capsule get": _capsule_get,
    "computations list": _computations_list,
    "run": _run,
    "wait": _wait,
    "run-many": run_many,
}


# --- parsing and entry points ------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command; ``args.command`` names the handler in COMMANDS."""

    # The shared options are on the top parser and on every subcommand, so they work anywhere.
    # Separate copies: a subcommand's copy defaults to SUPPRESS, so it never resets a value given
    # before the subcommand.
    def add_common(to: argparse.ArgumentParser, json: object, domain: object) -> None:
        to.add_argument("--json", action="store_true", default=json, help="print one JSON document")
        to.add_argument(
            "--domain", default=domain, help=f"the deployment (overrides ${ENV_DOMAIN})"
        )

    common = argparse.ArgumentParser(add_help=False)
    add_common(common, argparse.SUPPRESS, argparse.SUPPRESS)
    extra: dict[str, Any] = {
        "epilog": _EPILOG,
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
    parser = argparse.ArgumentParser(
        prog=PROG, description=f"Code Ocean from the command line ({PROG} {__version__}).", **extra
    )
    add_common(parser, False, None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    def add(group: _Subparsers, name: str, command: str, text: str) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=text, description=text, parents=[common], **extra)
        sub.set_defaults(command=command)
        return sub

    capsule = commands.add_parser("capsule", help="capsule metadata")
    capsule_commands = capsule.add_subparsers(title="commands", metavar="COMMAND", required=True)
    get = add(capsule_commands, "get", "capsule get", "print a capsule's metadata")
    get.add_argument("target_id", metavar="ID", help="the capsule id")
    get.add_argument("--pipeline", action="store_true", help="ID is a pipeline id")

    comps = commands.add_parser("computations", help="list computations")
    comps_commands = comps.add_subparsers(title="commands", metavar="COMMAND", required=True)
    listing = add(comps_commands, "list", "computations list", "list a capsule's computations")
    listing.add_argument("target_id", metavar="CAPSULE_ID", help="the capsule id")
    listing.add_argument("--pipeline", action="store_true", help="CAPSULE_ID is a pipeline id")

    run = add(commands, "run", "run", "start a run of a capsule or pipeline")
    run.add_argument("target_id", metavar="CAPSULE_ID", help="the capsule id")
    run.add_argument("--pipeline", action="store_true", help="CAPSULE_ID is a pipeline id")
    run.add_argument("--version", type=int, metavar="N", help="run released version N (>= 1)")
    for flag, metavar, text in (
        ("--data-asset", "ID[:MOUNT]", "attach a data asset, optionally at MOUNT"),
        ("--param", "VALUE", "a positional parameter, in order"),
        ("--named-param", "NAME=VALUE", "a named parameter"),
    ):
        run.add_argument(
            flag, action="append", default=[], metavar=metavar, help=f"{text} (repeatable)"
        )
    run.add_argument("--wait", action="store_true", help="wait for it, showing each state")
    run.add_argument("--timeout", type=float, metavar="S", help="with --wait: give up after S s")

    wait = add(commands, "wait", "wait", "wait for a computation, showing each state change")
    wait.add_argument("computation_id", metavar="ID", help="the computation id")
    wait.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds")

    add_run_many_arguments(add(commands, "run-many", "run-many", RUN_MANY_HELP))

    add(
        commands,
        "demo",
        "demo",
        "run the main job (metadata, three run variants, waits, the run list) against the "
        "embedded fake Code Ocean, or against $CODEOCEAN_DOMAIN when it and the token are set",
    )
    return parser


async def run_command(
    args: argparse.Namespace, client: AsyncCodeOcean, *, out: TextIO, err: TextIO
) -> int:
    """Run the parsed command with an open client; write results to ``out``, errors to ``err``.

    Returns the exit code (see the module docstring). Cancellation is never caught.
    """
    ui = Output(out, err, json_mode=args.json)
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
    try:
        client = client_from_env(args.domain)
    except ConfigurationError as exc:
        Output(out, err, json_mode=args.json).error(str(exc))
        return Exit.API_ERROR
    async with client:
        return await run_command(args, client, out=out, err=err)


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already reported
        return exc.code if isinstance(exc.code, int) else Exit.USAGE
    try:
        if args.command == "demo":  # it brings its own deployment: no client from the env here
            from ._demo import main as demo

            return demo(sys.stdout)
        return anyio.run(_main, args, sys.stdout, sys.stderr, backend="asyncio")
    except BaseException as exc:
        if not _is_interrupt(exc):
            raise
        sys.stderr.write(f"{PROG}: interrupted\n")
        return Exit.INTERRUPTED


def _is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, possibly wrapped by a task group with the cancellations it caused."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    leaves = getattr(exc, "exceptions", None)  # an exception group (builtin or backported)
    if not isinstance(leaves, tuple) or not leaves:
        return False
    return any(_is_interrupt(e) for e in leaves) and all(
        _is_interrupt(e) or isinstance(e, anyio.get_cancelled_exc_class()) for e in leaves
    )
