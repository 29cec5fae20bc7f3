# The README's two commands. Each sets itself up from a fresh clone.
#   make run   - create .venv if missing, install the app, start it (STREAMLIT_* honoured; one process,
#                its import-time heap frozen as serve/worker.py explains)
#   make test  - the same set-up plus the test tools, then the whole test suite
#   make test-fast - the edit-test loop: all but the browser and slow tests; renders every page
#   make test-deep - the property tests with 20x their examples from a fresh random seed (before a stop)
#   make class - serve a class on every core: WORKERS= Streamlit processes (one per core) behind nginx

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SHARED_MNIST := $(abspath ../shared/data/mnist)
# Where the course's shared folder sits beside the checkout, the server reads MNIST and data.csv from it.
SERVE_ENV := WARM_MODELS="$${WARM_MODELS:-1}" MNIST_DIR="$${MNIST_DIR:-$(wildcard $(SHARED_MNIST))}" \
	COURSE_DATA_CSV="$${COURSE_DATA_CSV:-$(wildcard $(abspath ../shared/data/regression/data.csv))}"

.PHONY: run class test test-fast test-deep bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamps keep a second `make` from reinstalling; they are redone when a requirements file changes.
$(VENV)/.app: $(PY) requirements.txt
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.app requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.app
	-$(SERVE_ENV) $(PY) -m lessons.mnist --fetch
	$(SERVE_ENV) $(PY) -m serve.worker streamlit_app.py

# N workers behind Debian's nginx on STREAMLIT_SERVER_PORT (default 8501); STREAMLIT_* reach every
# worker; Ctrl+C stops everything. See the README, "Serving a class".
class: $(VENV)/.app
	-$(SERVE_ENV) $(PY) -m lessons.mnist --fetch
	$(SERVE_ENV) $(PY) -m serve.class_server $(if $(WORKERS),--workers $(WORKERS))

# Tests read the real MNIST from ../shared when it is there (never copied into the repo).
test: $(VENV)/.dev
	MNIST_DIR="$${MNIST_DIR:-$(SHARED_MNIST)}" $(PY) -m pytest

# The edit-test loop: everything but the browser and slow tests (under a minute here), every page rendered.
# One pytest-xdist worker per core, each test file whole on one worker (its module fixtures made once).
test-fast: $(VENV)/.dev
	MNIST_DIR="$${MNIST_DIR:-$(SHARED_MNIST)}" $(PY) -m pytest -m "not browser and not slow" -q -n auto --dist loadfile

# The property tests (hypothesis) with HYPOTHESIS_DEEP_FACTOR (20) times their own examples and a
# fresh random seed, to find a property that holds only by luck; the seed is printed to replay a failure.
test-deep: $(VENV)/.dev
	@seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); echo "hypothesis seed $$seed"; \
	HYPOTHESIS_PROFILE=deep MNIST_DIR="$${MNIST_DIR:-$(SHARED_MNIST)}" \
	$(PY) -m pytest -m "hypothesis and not browser" -q --hypothesis-seed=$$seed

bench: $(VENV)/.dev
	MNIST_DIR="$${MNIST_DIR:-$(SHARED_MNIST)}" $(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
