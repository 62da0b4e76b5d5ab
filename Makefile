# One entry point for people and CI. `make test` is what .ci/run runs.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: test lint fmt static-checks emulator

# Ends with one line totalling every test's results: cargo's test binaries, then the end-to-end tests.
test: lint static-checks
	mkdir -p target
	$(CARGO) test --workspace --locked --all-targets 2>&1 | tee target/test-output.log
	@e2e=0; $(MAKE) --no-print-directory e2e || e2e=$$?; \
	[[ -f $(E2E_TAP) ]] || echo "the end-to-end tests did not run"; \
	awk '/^test result:/ { passed += $$4; failed += $$6 } \
	     /^# pass [0-9]+$$/ { passed += $$3 } /^# (fail|cancelled) [0-9]+$$/ { failed += $$3 } \
	     END { printf "%d passed, %d failed\n", passed, failed }' target/test-output.log $$(ls $(E2E_TAP) 2>/dev/null); \
	exit $$e2e

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

# asl-validator and cfn-lint (on the SAM template and its offline translation); installs its own pinned tools.
static-checks:
	tools/static-checks.sh

# The emulator of both APIs for a person, on a fixed port: the clock is frozen unless EMULATOR_CLOCK_SCALE says
# how many simulated seconds pass per real one (a token issued at a day per second expires at once).
EMULATOR_CLOCK_SCALE ?= 0
emulator:
	$(CARGO) run --locked -p cpp-emulator -- --port 8480 --clock-scale $(EMULATOR_CLOCK_SCALE)

# The whole pipeline on this machine (tests/e2e/README.md): the real state machine run by
# aws-local-stepfunctions on Node 22, the functions behind `cargo lambda watch`, moto_server for S3 and
# Step Functions, the emulator for Microsoft (both APIs). tests/e2e/setup.sh installs the pinned tools.
E2E_NODE := .tools/e2e/node_modules/.bin/node
E2E_TAP := target/e2e/results.tap
# target/debug/{cpp-emulator,<function>} come from the build `make test` makes (a no-op right after it):
# a plain `cargo build` resolves other dependency features and would compile them all a second time.
E2E_BUILD := $(CARGO) test --workspace --locked --all-targets --no-run --quiet
.PHONY: e2e demo
e2e:
	tests/e2e/setup.sh
	$(E2E_BUILD)
	rm -f $(E2E_TAP) && mkdir -p $(dir $(E2E_TAP))
	$(E2E_NODE) --test --test-reporter=spec --test-reporter-destination=stdout \
		--test-reporter=tap --test-reporter-destination=$(E2E_TAP) 'tests/e2e/*.test.mjs'

# The long seeded chaos run (tests/RELIABILITY.md): make chaos CHAOS_EXECUTIONS=60 CHAOS_SEED=20261121
CHAOS_EXECUTIONS ?= 60
CHAOS_SEED ?= 20261121
.PHONY: chaos
chaos:
	tests/e2e/setup.sh
	$(E2E_BUILD)
	CHAOS_EXECUTIONS=$(CHAOS_EXECUTIONS) CHAOS_SEED=$(CHAOS_SEED) $(E2E_NODE) tests/e2e/chaos.mjs

# One build from the manifest upload to live, narrated, with days of certification in seconds;
# API=productIngestion publishes a Partner Center offer instead of a CPP one.
API ?= cpp
demo:
	tests/e2e/setup.sh
	$(E2E_BUILD)
	DEMO_API=$(API) $(E2E_NODE) tests/e2e/demo.mjs

# The benchmark, not a test (`make test` never runs it): cold start, memory and size of the release
# binaries, the API calls of both Microsoft APIs, waiting cost and throughput, each next to its target and to the Python peer
# cloudpub (installed at the versions in tools/bench-requirements.txt into .tools/bench-venv). `-p bench` also builds
# the floor (tests/bench/src/bin/floor.rs), the minimal lambda_runtime function the cold starts are held to.
# Prints a table and writes target/bench/report.json. More runs: make bench BENCH_ARGS="--runs 50".
BENCH_VENV := .tools/bench-venv
BENCH_ARGS ?=
.PHONY: bench
bench:
	@source tools/pinned-install.sh; want="$$(digest tools/bench-requirements.txt)"; \
	if ! is_current $(BENCH_VENV)/.pins "$$want" $(BENCH_VENV)/bin/python; then \
		echo "installing the peer (cloudpub) into $(BENCH_VENV) ..."; \
		pip_into $(BENCH_VENV) tools/bench-requirements.txt; \
		echo "$$want" > $(BENCH_VENV)/.pins; \
	fi
	$(CARGO) build --release --locked -p build-finished -p update-and-publish -p check-last-operation -p validate-and-go-live -p bench
	target/release/bench --python $(BENCH_VENV)/bin/python $(BENCH_ARGS)
