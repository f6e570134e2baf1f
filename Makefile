# Developer entry points.  `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
VENV ?= .venv
export VENV

.PHONY: test venv sanity units integration lint format demo bench clean

test: venv  ## sanity, unit, integration and lint, with a summary
	tools/test.sh sanity units integration lint

venv:
	tools/bootstrap.sh

sanity: venv
	tools/test.sh sanity

units: venv
	tools/test.sh units

integration: venv
	tools/test.sh integration

lint: venv
	tools/test.sh lint

format: venv
	$(VENV)/bin/ruff format plugins tests files tools
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf build .venv .venv-core217

demo: venv  ## the whole stack against the embedded emulator: build, re-run (changed=0), summary
	tools/demo.sh

bench: venv  ## benchmarks (figures, not pass/fail): autostop check and stop path, module start-up, site.yml runs, fleet restart
	$(VENV)/bin/python bench/autostop_check.py
	$(VENV)/bin/python bench/module_startup.py
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/python bench/stack_runs.py --notebooks 1 10 50
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/python bench/fleet_restart.py --notebooks 20 --phase-seconds 10
