# Two commands for users: `make demo` and `make test` (see README.md).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: setup test test-all demo lint clean-demo

setup:
	@bash tools/setup_env.sh

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -m "" $(PYTEST_ARGS)

# The quickstart imports and checks the stack itself: setup trusts its stamp.
demo:
	@SETUP_CHECK=stamp bash tools/setup_env.sh
	@bash tools/quickstart.sh

LINT_PATHS := gcnet_plugin tools tests configs setup.py

lint: setup
	$(PY) -m flake8 $(LINT_PATHS)
	$(PY) -m isort --check-only --diff $(LINT_PATHS)
	$(PY) -m yapf --diff -r $(LINT_PATHS)

clean-demo:
	rm -rf work_dirs/quickstart data/quickstart
