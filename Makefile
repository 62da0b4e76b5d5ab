# One entry point for people and CI. `make test` is what .ci/run runs.
CARGO ?= cargo

.PHONY: test lint fmt emulator

test: lint
	$(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

# The CPP emulator on a fixed port, a simulated day per real second.
emulator:
	$(CARGO) run --locked -p cpp-emulator -- --port 8480 --clock-scale 86400
