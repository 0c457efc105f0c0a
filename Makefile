# SPDX-License-Identifier: MIT
# Wraps the two commands of the README: `make demo` and `make check`.
JOBS ?= 2
CMAKE ?= cmake
CTEST ?= ctest

.PHONY: all build deps demo test check asan tsan install-test bench models fuzz check-xen clean

all: build

deps:
	@scripts/deps.sh

build: deps
	$(CMAKE) -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	$(CMAKE) --build build -j$(JOBS)

# The embedded split block driver demo with its defaults (tools/, issue 5).
demo: build
	build/tools/xgnt demo

test: build
	$(CTEST) --test-dir build --output-on-failure -j$(JOBS)

# Every test under AddressSanitizer + UndefinedBehaviorSanitizer, with
# assertions (lock ownership, invariants) enabled.
asan: deps
	$(CMAKE) -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DXGNT_SANITIZE=address,undefined >/dev/null
	$(CMAKE) --build build-asan -j$(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(CTEST) --test-dir build-asan --output-on-failure -j$(JOBS)

# The concurrent tests under ThreadSanitizer.
tsan: deps
	$(CMAKE) -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DXGNT_SANITIZE=thread >/dev/null
	$(CMAKE) --build build-tsan -j$(JOBS)
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		$(CTEST) --test-dir build-tsan --output-on-failure -j$(JOBS) -L concurrent

# cmake --install, then build the README's example with pkg-config only.
install-test: build
	scripts/install-test.sh build

# The benchmarks (bench/) from a Release tree of their own; each prints
# its ratio to a floor measured in the same run. BENCH_ARGS: e.g. --quick,
# --only map. JSON: build-bench/bench.json.
BENCH_ARGS ?=
bench: deps
	$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DXGNT_TESTS=OFF >/dev/null
	$(CMAKE) --build build-bench -j$(JOBS) --target xgnt_bench vchan_bench xgntd xgnt-xenstored \
		xengnttab xenevtchn
	build-bench/bench/xgnt_bench --json build-bench/bench.json $(BENCH_ARGS)
	bench/vchan.sh build-bench --json build-bench/vchan.json

# The SPIN models of the v1 grant entry and 2-level events (models/).
models: deps
	models/check.sh

# The libFuzzer harnesses (fuzz/) for FUZZ_SECONDS each; their corpora are
# replayed by the ordinary tests.
FUZZ_SECONDS ?= 60
fuzz: deps
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The same scenarios on real Xen 4.17 under QEMU and on xgnt (tests/xen/).
check-xen: build
	tests/xen/run.sh build

check: test asan tsan install-test models
	@echo "make check: all suites passed"

clean:
	rm -rf build build-asan build-tsan build-bench
