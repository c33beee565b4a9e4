"""Apache Airflow provider for Code Ocean: a hook, a run operator, a sensor and their trigger.

Install with ``pip install 'codeocean-async[airflow]'``. The connection type is ``codeocean``
(host: the deployment's domain; password: the API token). Every module here imports Airflow;
the Airflow-free logic lives in ``codeocean_async._airflow_support``.
"""

from .hooks import CodeOceanHook
from .operators import CodeOceanRunOperator
from .sensors import CodeOceanComputationSensor
from .triggers import CodeOceanComputationTrigger

__all__ = [
    "CodeOceanComputationSensor",
    "CodeOceanComputationTrigger",
    "CodeOceanHook",
    "CodeOceanRunOperator",
]
