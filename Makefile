# Thin wrapper over CMake. Every target that builds first makes sure the Debian
# packages are present (scripts/deps.sh is idempotent and quick when they are).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build test unit asan demo bench fuzz install clean

all: build

deps:
	@bash scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

# `make test`: the unit and end-to-end suites, then the same under ASan+UBSan. The ASan pass
# skips the crash walk, which replays the same C paths at every one of ~130 crash points
# (about 3 min under ASan): it runs in the first pass, and the kill test (40 kills under
# ASan) and the unit tests cover those paths under the sanitizers. The simulated months
# (test_simulate, the tutorial's quarter) run in both: about 30 and 20 s under ASan.
ASAN_SKIP ?= e2e/test_crash_serve
test: unit asan

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTANDEM_ASAN=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) -- --no-print-directory
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		TANDEM_ASAN=1 ctest --output-on-failure -j $(JOBS) -E '$(ASAN_SKIP)'

demo: build
	@bash scripts/demo.sh $(BUILD)/tandem

bench: build
	@bash scripts/deps.sh --bench
	@bash tests/bench/run.sh $(BUILD)

# `make fuzz`: the libFuzzer harnesses of tests/fuzz/ (clang, ASan+UBSan), each run for
# FUZZ_SECONDS on a copy of its seed corpus; FUZZ_TARGETS="csv npy" runs only those. Not part
# of `make test`. Findings are left in $(FUZZ_BUILD)/crashes/ (see docs/testing.md).
fuzz:
	@bash scripts/deps.sh --fuzz
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DTANDEM_FUZZ=ON -DTANDEM_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target tandem_fuzzers -- --no-print-directory
	@bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
