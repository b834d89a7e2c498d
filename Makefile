# Two commands on a fresh machine: `make run` and `make test` (both set up .venv when needed).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-stamp
SCENARIO ?= scenarios/default.toml
RUN_ARGS ?=
PYTEST_ARGS ?=

.PHONY: setup run test bench lint format clean-runs

setup: $(STAMP)

# Re-run the install whenever pyproject.toml changes. torch==2.13.0 is pinned in pyproject;
# pip takes the CPU build of that wheel that lies on this machine class's disk.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev,ray]"
	touch $(STAMP)

run: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) run_emulation.py run $(SCENARIO) $(RUN_ARGS)

# pytest exit 5 = "no tests collected" (e.g. a -k filter that matches nothing): reported, not
# failed; every other non-zero status fails.
test: $(STAMP)
	@rc=0; OMP_NUM_THREADS=1 $(PY) -m pytest -n 2 $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)"; rc=0; fi; \
	exit $$rc

bench: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) benchmarks/engine_bench.py
	OMP_NUM_THREADS=1 $(PY) benchmarks/longrun_memory.py
	@for f in benchmarks/*_bench.py; do \
	  case $$f in benchmarks/engine_bench.py) ;; *) echo "== $$f"; OMP_NUM_THREADS=1 $(PY) $$f || exit 1;; esac; \
	done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-runs:
	rm -rf runs/
