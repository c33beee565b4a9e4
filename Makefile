# Every target bootstraps .venv from nothing: a fresh clone needs only Python >= 3.10.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed

.PHONY: demo test test-airflow lint typecheck pytest fmt bench soak clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## demo: start the fake Code Ocean on a real socket and run the main job against it
## (or against a real deployment when CODEOCEAN_DOMAIN and CODEOCEAN_API_TOKEN are set).
demo: $(STAMP)
	$(BIN)/codeocean-async demo

## test: lint, format check, mypy --strict, then pytest on asyncio and trio with a coverage floor.
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage report

$(AIRFLOW_STAMP): pyproject.toml
	@test -x $(AIRFLOW_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install --quiet -e '.[airflow,testing]' 'pytest>=8.2' 'anyio>=4.4' 'mypy>=1.11'
	@touch $(AIRFLOW_STAMP)

## test-airflow: the Airflow provider on a real Airflow 3, in its own .venv-airflow (so Airflow's
## pins never constrain the SDK's): mypy --strict on the provider, unit tests, real DAGs through
## dag.test() against the fake over sockets, and 200 triggers in one event loop.
test-airflow: $(AIRFLOW_STAMP)
	$(AIRFLOW_VENV)/bin/mypy --config-file tests_airflow/mypy.ini
	$(AIRFLOW_VENV)/bin/python -m pytest -c tests_airflow/pytest.ini tests_airflow

## bench: the benchmarks against the fake Code Ocean in its own process; prints ratio tables.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks

## soak: 2,000 launches and waits per engine (httpx on asyncio and trio, aiohttp) over real
## sockets against a hostile fake; prints the figures per engine and asserts each is 0.
soak: $(STAMP)
	CODEOCEAN_SOAK=1 $(BIN)/pytest -s -q -p no:logging tests/test_soak_hostile.py -k 2000

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(AIRFLOW_VENV) .coverage .mypy_cache .ruff_cache build dist
