# Two commands do all set-up on a fresh machine with Python >= 3.10 and make:
#   make lab   - create .venv if missing, install, open JupyterLab on the course
#   make test  - create .venv if missing, install, run every test layer
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.kit-installed
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: install lab test lint bench html slides release doctor sample-class clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(PY) -m kit doctor --fix
	@touch $(STAMP)

install: $(STAMP)

lab: install
	$(PY) -m jupyterlab $(ROOT_FLAG) --ServerApp.root_dir="$(CURDIR)" \
	  --LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb $(LAB_ARGS)

lint: install
	$(PY) -m ruff check .

# Layers: (a) unit tests and doctests of kit/, (b) every notebook in notebooks/ and
# solutions/ executed with nbval, (c) the nbgrader course checks, (d) real-browser tests.
test: install lint sample-class
	$(PY) -m pytest $(PYTEST_ARGS)

# A simulated class of 32 trainees graded through the real pipeline, for the instructor
# dashboard (cached in build/sample_class/ until its inputs change).
sample-class: install
	$(PY) scripts/make_sample_class.py

bench: install
	$(PY) bench/run_all.py

html: install
	$(PY) -m kit html

slides: install
	$(PY) -m kit slides

release: install
	$(PY) -m kit release

doctor: install
	$(PY) -m kit doctor

clean:
	rm -rf build .pytest_cache .ruff_cache
