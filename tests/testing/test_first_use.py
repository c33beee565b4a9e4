"""The testing kit on first use: the README's test file passes as written, without uvicorn the
socket fake and the demo say what to install, and the socket fake names its data asset."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).parents[2] / "README.md"
BOUND = 120  # seconds: a run that used to hang fails here instead
#: anyio's own ``anyio_backend`` runs a test on each backend it finds installed.
BACKENDS = 2 if importlib.util.find_spec("trio") else 1


def readme_user_test() -> str:
    """The python block under the README's "With pytest" heading, as written."""
    section = README.read_text().split("### With pytest", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def run_pytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # A subprocess: bounded, and nothing of this test session (its conftest, its plugins'
    # state, stamina's testing mode) reaches the user's run.
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args, timeout=BOUND)


def test_the_readme_test_file_passes_as_written(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=readme_user_test())
    result = run_pytest(pytester)
    result.assert_outcomes(passed=BACKENDS)


def test_it_runs_on_trio_when_the_user_sets_anyio_backend(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "trio"
        """
    )
    pytester.makepyfile(
        test_user=readme_user_test()
        + textwrap.dedent(
            """

            async def test_on_trio(codeocean_client):
                import sniffio

                assert sniffio.current_async_library() == "trio"
            """
        )
    )
    result = run_pytest(pytester)
    result.assert_outcomes(passed=2)


def test_marked_tests_and_tests_without_the_fixtures_are_left_alone(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(params=["asyncio", "trio"])
        def anyio_backend(request):
            return request.param
        """
    )
    pytester.makepyfile(
        test_user="""
        import pytest

        @pytest.mark.anyio
        async def test_marked(codeocean_client, codeocean_fake):
            codeocean_fake.add_capsule(id="c1", name="Mine")
            assert (await codeocean_client.capsules.get("c1")).name == "Mine"

        async def test_unrelated():  # no codeocean fixture: not the plugin's to run
            pass
        """
    )
    result = run_pytest(pytester, "-W", "ignore")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 2  # the marked test, once on each backend; not the other
    assert "test_unrelated PASSED" not in result.stdout.str()


def test_the_manual_clock_is_an_explicit_choice(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
        import anyio
        from codeocean_async import Outcome

        async def test_manual(codeocean_client, codeocean_fake, codeocean_manual_clock):
            capsule = codeocean_fake.add_capsule()
            run = await codeocean_client.computations.run(capsule_id=capsule["id"])
            with anyio.move_on_after(0.3):
                await codeocean_client.computations.wait_for_completion(run)
                raise AssertionError("time moved by itself")
            codeocean_manual_clock.advance(3)
            done = await codeocean_client.computations.wait_for_completion(run)
            assert done.outcome is Outcome.SUCCEEDED
        """
    )
    run_pytest(pytester).assert_outcomes(passed=BACKENDS)


# --- without uvicorn ---------------------------------------------------------------------------

BLOCK_UVICORN = "import sys; sys.modules['uvicorn'] = None; "


def run_without_uvicorn(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODEOCEAN_")}
    return subprocess.run(
        [sys.executable, "-c", BLOCK_UVICORN + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("code", "prog"),
    [
        (
            "import runpy; runpy.run_module('codeocean_async.testing', run_name='__main__')",
            "python -m codeocean_async.testing",
        ),
        (
            "from codeocean_async.cli import main; sys.exit(main(['demo']))",
            "codeocean-async demo",
        ),
    ],
)
def test_without_uvicorn_one_line_names_the_extra(code: str, prog: str) -> None:
    proc = run_without_uvicorn(code)
    assert proc.returncode != 0
    assert proc.stdout == ""
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"{prog}: ")
    assert "needs uvicorn: pip install 'codeocean-async[testing]'" in line
