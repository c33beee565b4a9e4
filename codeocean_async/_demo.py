"""The main job, end to end: capsule metadata, the three run variants, waits, the run list.

Runs against the deployment named by ``CODEOCEAN_DOMAIN`` / ``CODEOCEAN_API_TOKEN`` (and
``CODEOCEAN_CAPSULE_ID``, optionally ``CODEOCEAN_DATA_ASSET_ID``) when they are set, else against
the embedded fake Code Ocean served over a real socket. ``make demo`` runs it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator
from typing import TextIO

import anyio

from ._cli_stop import STOP_SIGNALS, until_stopped
from ._client import AsyncCodeOcean
from ._errors import CodeOceanError
from .models import Computation, DataAssetsRunParam, Outcome, RunParams

__all__ = ["main", "main_job"]

PROG = "codeocean-async"


def _stamp() -> str:
    return time.strftime("%H:%M:%S")


async def main_job(
    client: AsyncCodeOcean, capsule_id: str, *, data_asset_id: str | None, out: TextIO
) -> int:
    """Run the main job on ``client``; returns 0 when every run succeeded, else 1."""

    def say(line: str = "") -> None:
        print(line, file=out, flush=True)

    capsule = await client.capsules.get(capsule_id)
    versions = ", ".join(str(v.major_version) for v in capsule.versions or ()) or "none"
    say(f"Capsule {capsule.name!r} ({capsule.id})")
    say(f"  status {capsule.status}, slug {capsule.slug}, released versions: {versions}")
    say(f"  tags: {', '.join(capsule.tags or ()) or '-'}")
    say()

    variants: list[tuple[str, RunParams]] = [("plain", RunParams(capsule_id=capsule_id))]
    latest = capsule.latest_version
    if latest is not None:
        variants.append(
            (
                f"version {latest.major_version}",
                RunParams(capsule_id=capsule_id, version=latest.major_version),
            )
        )
    else:
        say("  (no released version: skipping the versioned run)")
    if data_asset_id:
        variants.append(
            (
                "data assets",
                RunParams(capsule_id=capsule_id, data_assets=[DataAssetsRunParam(data_asset_id)]),
            )
        )
    else:
        say("  (CODEOCEAN_DATA_ASSET_ID not set: skipping the run with data assets)")

    width = max(len(label) for label, _ in variants)
    runs: list[tuple[str, Computation]] = []
    say("Starting runs:")
    for label, params in variants:
        run = await client.computations.run(params)
        runs.append((label, run))
        say(f"  {label:<{width}}  {run.name}  {run.id}")
    say()

    say("Waiting (each state change as it is seen):")
    finals: dict[str, Computation] = {}

    async def wait(label: str, run: Computation) -> None:
        def show(c: Computation) -> None:
            say(f"  {_stamp()}  {label:<{width}}  {c.id}  {c.state}")

        finals[label] = await client.computations.wait_for_completion(run, on_update=show)

    async with anyio.create_task_group() as tg:
        for label, run in runs:
            tg.start_soon(wait, label, run)
    say()

    say("Outcomes:")
    for label, _ in runs:
        final = finals[label]
        say(
            f"  {label:<{width}}  {final.outcome}  (end status {final.end_status}, "
            f"exit code {final.exit_code}, run time {final.run_time} s)"
        )
    say()

    listed = await client.capsules.list_computations(capsule_id)
    say(f"The capsule's computations ({len(listed)}):")
    for c in listed:
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(c.created))
        say(f"  {c.id}  {c.name:<12}  {c.state!s:<11}  {c.outcome!s:<12}  created {created} UTC")
    return 0 if all(f.outcome is Outcome.SUCCEEDED for f in finals.values()) else 1


@contextlib.contextmanager
def _deployment(out: TextIO) -> Iterator[tuple[dict[str, str], str | None]]:
    """The environment for the job: a real deployment's, or the embedded fake's."""
    env = {k: os.environ.get(k, "") for k in ("CODEOCEAN_DOMAIN", "CODEOCEAN_API_TOKEN")}
    if all(env.values()):
        capsule_id = os.environ.get("CODEOCEAN_CAPSULE_ID", "")
        if not capsule_id:
            raise SystemExit("set CODEOCEAN_CAPSULE_ID to the capsule the demo should run")
        print(f"Code Ocean at {env['CODEOCEAN_DOMAIN']}", file=out)
        yield {**env, "CODEOCEAN_CAPSULE_ID": capsule_id}, os.environ.get("CODEOCEAN_DATA_ASSET_ID")
        return
    from .testing import FakeCodeOcean, serve_in_thread
    from .testing._app import DEMO_CAPSULE_ID, DEMO_DATA_ASSET_ID

    fake = FakeCodeOcean.with_demo_data(base_time=int(time.time()))
    with serve_in_thread(fake) as url:
        print(f"Code Ocean: the embedded fake at {url} (set CODEOCEAN_DOMAIN and", file=out)
        print("CODEOCEAN_API_TOKEN to run against a real deployment)", file=out)
        print(file=out)
        yield (
            {
                "CODEOCEAN_DOMAIN": url,
                "CODEOCEAN_API_TOKEN": fake.token,
                "CODEOCEAN_CAPSULE_ID": DEMO_CAPSULE_ID,
            },
            DEMO_DATA_ASSET_ID,
        )


def main(out: TextIO = sys.stdout) -> int:
    """Run the demo; the exit status is 0 when every run succeeded.

    Without uvicorn (the ``testing`` extra) the embedded fake cannot be served: one line on
    stderr says what to install, exit status 3. Ctrl-C or SIGTERM stops it: 130 or 143.
    """
    with contextlib.ExitStack() as stack:
        try:
            env, data_asset_id = stack.enter_context(_deployment(out))
        except ImportError as exc:
            if exc.name != "uvicorn":
                raise
            print(f"{PROG} demo: {exc}", file=sys.stderr)
            return 3

        async def job() -> int:
            async with AsyncCodeOcean(
                domain=env["CODEOCEAN_DOMAIN"], token=env["CODEOCEAN_API_TOKEN"]
            ) as client:
                return await main_job(
                    client, env["CODEOCEAN_CAPSULE_ID"], data_asset_id=data_asset_id, out=out
                )

        try:
            code, stopped = anyio.run(until_stopped, job)
        except CodeOceanError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        if stopped is not None:
            word = "interrupted" if stopped == STOP_SIGNALS[signal.SIGINT] else "terminated"
            embedded = not all(
                os.environ.get(k) for k in ("CODEOCEAN_DOMAIN", "CODEOCEAN_API_TOKEN")
            )
            left = "" if embedded else "; the runs started above keep running"
            print(f"{PROG} demo: {word}{left}", file=sys.stderr)
            return stopped
        assert code is not None
        return code


if __name__ == "__main__":
    sys.exit(main())
