"""The command line's arguments: the parser, and the checks that turn them into requests."""

from __future__ import annotations

import argparse
import contextlib
import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._cli_output import PROG, UsageError
from ._client import ENV_DOMAIN
from ._config import DEFAULT_CONCURRENCY, DEFAULT_MAX_REQUESTS_PER_SECOND
from ._ids import check_id
from ._polling import check_timeout
from ._version import __version__
from .models import NamedRunParam, RunParams

__all__ = [
    "build_parser",
    "check_id_arg",
    "check_run_many_options",
    "check_timeout_arg",
    "run_params",
    "target_id",
]

if TYPE_CHECKING:
    _Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


RUN_MANY_HELP = "launch many runs from a JSON lines file, and optionally wait for them"
_DESCRIPTION = f"""{RUN_MANY_HELP}.

SPECS.jsonl holds one run request per line, RunParams as JSON ('-': stdin), e.g.
  {{"capsule_id": "...", "parameters": ["1"]}}
All are checked before anything is sent. A terminal shows one progress line, redrawn in place;
elsewhere (with --json: on stderr) each launch, failed launch, relaunch and finished run prints a
line. Then one row per spec, in input order, and the count of each outcome; with --json, a list of
one object per spec (index, spec, computation, attempts, error, uncertain). Exit code 1 when any
launch failed or is uncertain, or (with --wait) any run did not succeed or timed out; 3 when the
token is refused before any run started; 130 on Ctrl-C (143 on SIGTERM), naming the runs that
keep running; with --json the list then says what is known of each spec (its computation as
last seen, in_flight: it may or may not have started one, not_sent).
"""


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
    """A ``--timeout`` value (``run``, ``wait``, ``run-many``), or ``UsageError``: the API's rule
    (``_polling.check_timeout``: seconds >= 0, 0 being one look), and finite (no timeout is
    leaving the option out)."""
    with contextlib.suppress(ValueError):
        timeout = check_timeout(value)
        if timeout is None or math.isfinite(timeout):
            return timeout
    raise UsageError(f"--timeout must be a number of seconds >= 0, not {value}")


def _named_params(specs: Sequence[str]) -> list[NamedRunParam]:
    """``NAME=VALUE`` options as named parameters (the one input ``RunParams`` takes no string
    form of); ``UsageError`` for one without ``=`` or a name, or a name given twice."""
    result: dict[str, NamedRunParam] = {}
    for spec in specs:
        name, equals, value = spec.partition("=")
        if not equals or not name.strip():
            raise UsageError(f"--named-param {spec!r}: expected NAME=VALUE")
        if name in result:
            raise UsageError(f"--named-param {name!r} is given more than once")
        result[name] = NamedRunParam(name, value)
    return list(result.values())


#: ``RunParams`` names a data asset in its errors by its place: ``data_assets[1].mount ...``.
_DATA_ASSET = re.compile(r"^data_assets\[(\d+)\]\.?")


def _in_options(message: str, args: argparse.Namespace) -> str:
    """A ``RunParams`` error in the command line's words: the option as given
    (``--data-asset 'x: ': mount ...``), or the ``--version`` flag."""
    match = _DATA_ASSET.match(message)
    if match:
        return f"--data-asset {args.data_asset[int(match.group(1))]!r}: {message[match.end() :]}"
    return re.sub(r"^version ", "--version ", message)


def run_params(args: argparse.Namespace) -> RunParams:
    """The run request the ``run`` arguments describe; ``UsageError`` for bad input.

    ``RunParams`` checks every field (and parses ``ID[:MOUNT]``); its errors are usage errors.
    """
    target = target_id(args)
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout applies only with --wait")
    check_timeout_arg(args.timeout)
    named = _named_params(args.named_param)
    try:
        return RunParams(
            capsule_id=None if args.pipeline else target,
            pipeline_id=target if args.pipeline else None,
            version=args.version,
            data_assets=list(args.data_asset) or None,
            parameters=list(args.param) or None,
            named_parameters=named or None,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(_in_options(str(exc), args)) from None


def add_run_many_arguments(parser: argparse.ArgumentParser) -> None:
    """The run-many arguments (the parser's help text and options)."""
    parser.description = _DESCRIPTION
    add = parser.add_argument
    add("specs", metavar="SPECS.jsonl", help="one run request (JSON) per line; '-' for stdin")
    add(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"launches in flight (default {DEFAULT_CONCURRENCY})",
    )
    add("--wait", action="store_true", help="wait for every run to finish")
    add("--timeout", type=float, metavar="S", help="with --wait: each run's wait, from its launch")
    add("--launch-interval", type=float, metavar="S", help="at least S seconds between launches")
    add(
        "--relaunch-failed-starts",
        type=int,
        metavar="N",
        help="with --wait: launch a run that failed to start again, up to N times",
    )
    add("--strategy", choices=("auto", "per_run", "list"), help="with --wait: how runs are polled")
    add(
        "--max-requests-per-second",
        type=float,
        metavar="R",
        help="with --wait: cap on the requests the waits send "
        f"(default {DEFAULT_MAX_REQUESTS_PER_SECOND:g})",
    )


def check_run_many_options(args: argparse.Namespace) -> None:
    """``UsageError`` for options out of range, or wait options without ``--wait``."""
    if args.concurrency < 1:
        raise UsageError(f"--concurrency must be a whole number >= 1, not {args.concurrency}")
    interval = args.launch_interval
    if interval is not None and not (math.isfinite(interval) and interval >= 0):
        raise UsageError(f"--launch-interval must be a number of seconds >= 0, not {interval}")
    if args.timeout is not None and not args.wait:
        raise UsageError("--timeout applies only with --wait")
    check_timeout_arg(args.timeout)  # 0: one look at each run
    for flag, value, allowed in (
        ("--relaunch-failed-starts", args.relaunch_failed_starts, "a whole number >= 0"),
        ("--strategy", args.strategy, ""),
        ("--max-requests-per-second", args.max_requests_per_second, "a number > 0"),
    ):
        if value is not None and not args.wait:
            raise UsageError(f"{flag} applies only with --wait")
        if value is None or not allowed:
            continue
        if not (math.isfinite(value) and (value >= 0 if ">=" in allowed else value > 0)):
            raise UsageError(f"{flag} must be {allowed}, not {value}")


def _add_on_uncertain(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--on-uncertain",
        choices=("raise", "reconcile"),
        help="when a run request may or may not have started a computation: report it "
        "(raise, the default) or look for it in the capsule's computations (reconcile)",
    )


def build_parser(
    epilog: str, more: Callable[[Any, Callable[..., argparse.ArgumentParser]], None] | None = None
) -> argparse.ArgumentParser:
    """The argument parser for every command (``epilog`` ends each help text);
    ``args.command`` names the handler in ``cli.COMMANDS``. ``more`` adds further commands
    (``_cli_data``), given the subcommands and the function that adds one."""

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

    if more is not None:
        more(commands, add)
    add(
        commands,
        "demo",
        "demo",
        "run the main job (metadata, three run variants, waits, the run list) against the "
        "embedded fake Code Ocean, or against $CODEOCEAN_DOMAIN when it and the token are set",
    )
    return parser
