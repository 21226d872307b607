# One command each: `make demo` runs the agent locally, `make test` runs the tests.
# Both create .venv and install everything on a fresh machine (Debian 12, Python 3.11).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The CDK app has its own environment (aws-cdk-lib, cdk-nag, cfn-lint; node runs jsii).
INFRA_VENV  := infra/.venv
INFRA_STAMP := $(INFRA_VENV)/.installed
ENV ?= dev

.PHONY: install demo test unit lint format bench mutation engine-b synth deploy destroy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# CPU build of torch first (a local wheel on the project's machines); then the package.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[local,dev,agentcore]'
	touch $@

install: $(STAMP)

# The agent locally: embedded engine, offline MiniLM, offline LLM without AWS credentials.
demo: $(STAMP)
	$(BIN)/python -m agentcore_app.demo

$(INFRA_STAMP): infra/requirements.txt
	$(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/pip install -q --upgrade pip
	$(INFRA_VENV)/bin/pip install -q -r infra/requirements.txt
	touch $@

# Engine B (TLS tests): Debian's valkey-server 8 from bookworm-backports; needs root.
engine-b:
	@if [ ! -x /usr/bin/valkey-server ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "engine-b: run 'sudo make engine-b' (installs Debian's valkey-server)"; exit 1; fi; \
		echo "deb http://deb.debian.org/debian bookworm-backports main" > /etc/apt/sources.list.d/backports.list; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports valkey-server >/dev/null; \
	fi

test: $(STAMP) $(INFRA_STAMP) engine-b
	$(BIN)/python -m pytest
	$(INFRA_VENV)/bin/python -m pytest infra/tests -q -p no:cacheprovider

# CloudFormation template into infra/cdk.out, offline (no AWS credentials needed).
synth: $(INFRA_STAMP)
	$(INFRA_VENV)/bin/python infra/app.py -c env=$(ENV)

# Needs AWS credentials, Docker with buildx (ARM64 image) and node for the CDK CLI.
deploy: $(INFRA_STAMP)
	cd infra && PATH=$(CURDIR)/$(INFRA_VENV)/bin:$$PATH npx --yes aws-cdk@2 deploy SemanticCacheStack-$(ENV) -c env=$(ENV)

destroy: $(INFRA_STAMP)
	cd infra && PATH=$(CURDIR)/$(INFRA_VENV)/bin:$$PATH npx --yes aws-cdk@2 destroy SemanticCacheStack-$(ENV) -c env=$(ENV)

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

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python bench/perf.py

# Mutation testing (mutmut 3) of _core.py, _protocol.py, guards.py and cache.py against the
# tests that exercise each; CPU-heavy, capped per file, not part of .ci/run. Work folders and
# surviving mutants stay in build/mutation/<file>/ (`mutmut results` there).
MUTATION_CAP ?= 900
mutation: $(STAMP)
	$(BIN)/pip install -q -r tools/requirements-mutation.txt
	$(BIN)/python tools/mutation.py --cap-seconds $(MUTATION_CAP)

clean:
	rm -rf $(VENV) $(INFRA_VENV) infra/cdk.out .pytest_cache .mypy_cache .ruff_cache
