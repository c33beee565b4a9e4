"""The Airflow provider's metadata (``apache_airflow_provider`` entry point); imports no Airflow.

Airflow calls ``get_provider_info`` while it imports itself, so this module must stay outside
``codeocean_async.airflow`` (whose modules import Airflow): an import of Airflow from here
would be circular.
"""

from __future__ import annotations

from typing import Any

from ._version import __version__

__all__ = ["get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """What Airflow reads about this provider: its package, connection type and classes."""
    return {
        "package-name": "codeocean-async",
        "name": "Code Ocean",
        "description": "Run Code Ocean capsules and pipelines from Airflow; waits defer.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "codeocean",
                "hook-class-name": "codeocean_async.airflow.hooks.CodeOceanHook",
            }
        ],
        "hooks": [
            {
                "integration-name": "Code Ocean",
                "python-modules": ["codeocean_async.airflow.hooks"],
            }
        ],
        "operators": [
            {
                "integration-name": "Code Ocean",
                "python-modules": ["codeocean_async.airflow.operators"],
            }
        ],
        "sensors": [
            {
                "integration-name": "Code Ocean",
                "python-modules": ["codeocean_async.airflow.sensors"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Code Ocean",
                "python-modules": ["codeocean_async.airflow.triggers"],
            }
        ],
    }
