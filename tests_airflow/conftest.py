"""A real Airflow (3.x, SQLite in a temporary AIRFLOW_HOME) and the fake Code Ocean on a socket.

The environment is set before Airflow is first imported: Airflow reads its configuration once.
Connections come from ``AIRFLOW_CONN_<ID>`` JSON variables pointing at the fake.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HOME = Path(tempfile.mkdtemp(prefix="airflow-home-"))
HERE = Path(__file__).parent
DAGS = HOME / "dags"


def readme_dag() -> str:
    """The complete DAG of the README's "Airflow" section."""
    section = (HERE.parent / "README.md").read_text().split("\n## Airflow\n", 1)[1]
    return re.findall(r"^```py\n(.*?)^```", section, re.DOTALL | re.MULTILINE)[0]


# The DAGs folder: the tests' DAGs and the README's, as files (dag.test() syncs them to the DB).
DAGS.mkdir()
shutil.copy(HERE / "dags" / "codeocean_dags.py", DAGS)
(DAGS / "readme_dag.py").write_text(readme_dag())
sys.path.insert(0, str(DAGS))
os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
)
for name in list(os.environ):
    if "proxy" in name.lower():  # loopback stays on loopback
        del os.environ[name]

from codeocean_async.testing import FakeCodeOcean, serve_in_thread  # noqa: E402

#: Fast polls (the connection's extra): waits on the fake's short runs end within a second.
POLL = {"poll_initial": 0.05, "poll_maximum": 0.2}


def pytest_configure(config: pytest.Config) -> None:
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture(params=["asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Airflow's triggerer runs on asyncio."""
    return str(request.param)


def connection(url: str, token: str, conn_id: str = "codeocean_default") -> None:
    """Point ``conn_id`` at ``url`` through its ``AIRFLOW_CONN_<ID>`` variable."""
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
        {"conn_type": "codeocean", "host": url, "password": token, "extra": POLL}
    )


@pytest.fixture
def fake() -> FakeCodeOcean:
    """A fake on the real clock whose runs take 0.1 s in each state."""
    return FakeCodeOcean(run_durations=(0.1, 0.1, 0.1))


@pytest.fixture
def served(fake: FakeCodeOcean) -> Iterator[str]:
    """The fake over a socket, and the default connection pointing at it."""
    with serve_in_thread(fake) as url:
        connection(url, fake.token)
        yield url
