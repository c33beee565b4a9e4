"""The command line's arguments: the parser, and the checks that turn them into a run request."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._cli_output import PROG, UsageError
from ._cli_progress import RUN_MANY_HELP, add_run_many_arguments
from ._client import ENV_DOMAIN
from ._ids import check_id
from ._version import __version__
from .models import DataAssetsRunParam, NamedRunParam, RunParams

__all__ = ["build_parser", "check_id_arg", "check_timeout_arg", "run_params", "target_id"]

if TYPE_CHECKING:
    _Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


def check_id_arg(value: str, what: str) -> str:
    """``value`` as an ID, or ``UsageError`` saying what is wrong with it."""
    try:
        return check_id(value, what)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None


def target_id(args: argparse.Namespace) -> str:
    """The CAPSULE_ID (or, with ``--pipeline``, pipeline ID) argument, checked."""
    return check_id_arg(args.target_id, "pipeline id" if args.pipeline else "capsule id")


def check_timeout_arg(value: float | None) -> float | None:
    """A --timeout value, or ``UsageError`` unless it is a number of seconds >= 0 (0: one look,
    as in the API)."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise UsageError(f"--timeout must be a number of seconds >= 0, not {value}")
    return value


def _data_asset(spec: str) -> DataAssetsRunParam:
    asset_id, colon, mount = spec.partition(":")
    if not asset_id:
        raise UsageError(f"--data-asset {spec!r}: the data asset id is empty (use ID[:MOUNT])")
    if colon and not mount:
        raise UsageError(f"--data-asset {spec!r}: the mount after ':' is empty (use ID[:MOUNT])")
    check_id_arg(asset_id, f"--data-asset {spec!r}: data asset id")
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


def run_params(args: argparse.Namespace) -> RunParams:
    """The run request the ``run`` arguments describe; ``UsageError`` for bad input."""
    target = target_id(args)
    if args.version is not None and args.version < 1:
        raise UsageError(f"--version must be a whole number >= 1, not {args.version}")
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout applies only with --wait")
    check_timeout_arg(args.timeout)
    return RunParams(
        capsule_id=None if args.pipeline else target,
        pipeline_id=target if args.pipeline else None,
        version=args.version,
        data_assets=[_data_asset(spec) for spec in args.data_asset] or None,
        parameters=list(args.param) or None,
        named_parameters=_named_params(args.named_param) or None,
    )


def _add_on_uncertain(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--on-uncertain",
        choices=("raise", "reconcile"),
        help="when a run request may or may not have started a computation: report it "
        "(raise, the default) or look for it in the capsule's computations (reconcile)",
    )


def build_parser(epilog: str) -> argparse.ArgumentParser:
    """The argument parser for every command (``epilog`` ends each help text);
    ``args.command`` names the handler in ``cli.COMMANDS``."""

    # The shared options are on the top parser and on every subcommand, so they work anywhere.
    # Separate copies: a subcommand's copy defaults to SUPPRESS, so it never resets a value given
    # before the subcommand.
    def add_common(to: argparse.ArgumentParser, json: object, domain: object, v: object) -> None:
        to.add_argument("--json", action="store_true", default=json, help="print one JSON document")
        to.add_argument(
            "--domain", default=domain, help=f"the deployment (overrides ${ENV_DOMAIN})"
        )
        to.add_argument(
            "-v",
            "--verbose",
            action="count",
            default=v,
            help="show the library's log on stderr: -v retries and failed requests, -vv every "
            "request",
        )

    common = argparse.ArgumentParser(add_help=False)
    add_common(common, argparse.SUPPRESS, argparse.SUPPRESS, argparse.SUPPRESS)
    extra: dict[str, Any] = {
        "epilog": epilog,
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
    parser = argparse.ArgumentParser(
        prog=PROG, description=f"Code Ocean from the command line ({PROG} {__version__}).", **extra
    )
    add_common(parser, False, None, 0)
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
    _add_on_uncertain(run)

    wait = add(commands, "wait", "wait", "wait for a computation, showing each state change")
    wait.add_argument("computation_id", metavar="ID", help="the computation id")
    wait.add_argument("--timeout", type=float, metavar="S", help="give up after S seconds")

    many = add(commands, "run-many", "run-many", RUN_MANY_HELP)
    add_run_many_arguments(many)
    _add_on_uncertain(many)

    add(
        commands,
        "demo",
        "demo",
        "run the main job (metadata, three run variants, waits, the run list) against the "
        "embedded fake Code Ocean, or against $CODEOCEAN_DOMAIN when it and the token are set",
    )
    return parser
