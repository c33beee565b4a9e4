"""The README's python examples type-check under ``mypy --strict``, as a user's code would."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"

#: Names the README's fragments use without defining them (an open client, IDs, the fake).
PRELUDE = """\
from codeocean_async import *  # noqa: F403
from codeocean_async.testing import FakeCodeOcean

client: AsyncCodeOcean
fake: FakeCodeOcean
CAPSULE: str
capsule_id: str
cid: str
asset_id: str
asset_ids: list[str]
"""


def readme_blocks() -> list[str]:
    blocks = re.findall(r"^```python\n(.*?)^```", README.read_text(), re.DOTALL | re.MULTILINE)
    assert len(blocks) >= 5
    return blocks


def as_module(block: str) -> str:
    """The block as a module: after the prelude, inside an async function when it awaits at
    its top level (a fragment of a user's async code)."""
    top_level_await = re.search(r"^(await |async for |async with |\w.* = await )", block, re.M)
    if top_level_await:
        block = "async def _example() -> None:\n" + textwrap.indent(block, "    ")
    return PRELUDE + "\n" + block


def test_the_readme_blocks_pass_mypy_strict(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    paths = []
    for number, block in enumerate(readme_blocks(), 1):
        path = tmp_path / f"readme_block_{number}.py"
        path.write_text(as_module(block))
        paths.append(str(path))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            *paths,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.stdout.splitlines() == []  # each line: one error, naming the block
    assert (proc.returncode, proc.stderr) == (0, "")
