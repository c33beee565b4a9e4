# Every target bootstraps .venv from nothing: a fresh clone needs only Python >= 3.10.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest fmt bench soak clean

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
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache build dist
