# One entry point for people and CI. `make test` is what .ci/run runs.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo

.PHONY: test lint fmt static-checks emulator

# Ends with one line totalling every test binary's results.
test: lint static-checks
	mkdir -p target
	$(CARGO) test --workspace --locked --all-targets 2>&1 | tee target/test-output.log
	@awk '/^test result:/ { passed += $$4; failed += $$6 } END { printf "%d passed, %d failed\n", passed, failed }' target/test-output.log

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

# asl-validator and cfn-lint (on the SAM template and its offline translation); installs its own pinned tools.
static-checks:
	tools/static-checks.sh

# The CPP emulator on a fixed port, a simulated day per real second.
emulator:
	$(CARGO) run --locked -p cpp-emulator -- --port 8480 --clock-scale 86400
