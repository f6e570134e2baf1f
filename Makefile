# Developer entry points.  `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
VENV ?= .venv
export VENV

.PHONY: test help venv sanity units integration lint format demo bench clean

test: venv  ## sanity, unit, integration and lint, with a summary
	tools/test.sh sanity units integration lint

help:  ## this list, and the variables of the narrower loops
	@echo 'Targets (make TARGET):'
	@grep -hE '^[a-z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'
	@echo 'Narrower loops (variables of tools/test.sh, also on the make command line):'
	@echo '  BUILD=build-x        own copy of the collection:  make units BUILD=build-x'
	@echo '  SANITY_ARGS=...      ansible-test sanity options: make sanity SANITY_ARGS="--test pep8"'
	@echo '  TARGETS=...          integration targets:         make integration TARGETS=lifecycle_config MOLECULE=0 TIMED=0'
	@echo "  PYTEST_ARGS=...      units and functional suites: make units PYTEST_ARGS=\"-k 'autostop or on_start'\""
	@echo '  MOLECULE=0           skip the molecule scenario:  make integration MOLECULE=0'
	@echo '  TIMED=0              skip the timing-model run:   make integration TARGETS=notebook_instance TIMED=0'
	@echo '  CORE217=0            skip ansible-core 2.17:      make integration CORE217=0'
	@echo '  FUNCTIONAL=0         skip tests/functional:       make integration TARGETS=isolation_audit FUNCTIONAL=0 MOLECULE=0 TIMED=0 CORE217=0'

venv:  ## the venv (.venv), made or brought up to date by tools/bootstrap.sh
	tools/bootstrap.sh

sanity: venv  ## ansible-test sanity on a copy of the collection
	tools/test.sh sanity

units: venv  ## unit tests (pytest tests/unit) on a copy of the collection
	tools/test.sh units

integration: venv  ## integration targets, functional suites, timing-model run, core 2.17 check, molecule
	tools/test.sh integration

lint: venv  ## ruff and ansible-lint --profile production
	tools/test.sh lint

format: venv  ## ruff format and ruff check --fix
	$(VENV)/bin/ruff format plugins tests files tools
	$(VENV)/bin/ruff check --fix .

clean:  ## remove build output and the venvs
	rm -rf build .venv .venv-core217

demo: venv  ## the whole stack against the embedded emulator: build, re-run (changed=0), summary
	tools/demo.sh

bench: venv  ## benchmarks (figures, not pass/fail): autostop check and stop path, module start-up, site.yml runs, fleet restart, the audit of 500 notebooks
	$(VENV)/bin/python -m bench.autostop_check
	$(VENV)/bin/python -m bench.module_startup
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/python -m bench.stack_runs --notebooks 1 10 50
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/python -m bench.fleet_restart --notebooks 20 --phase-seconds 10
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/python -m bench.audit_scale --notebooks 500 --subnets 10
