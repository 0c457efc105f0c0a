#!/bin/sh
# SPDX-License-Identifier: MIT
# make fuzz: build the libFuzzer harnesses (fuzz/) with clang, AddressSanitizer,
# UndefinedBehaviorSanitizer and assertions in build-fuzz/, run each for
# SECONDS (default 60) from its corpus, then rewrite fuzz/corpus/<harness>/
# as the seeds (seed-*: hand-made, and inputs that found bugs) plus a small set of inputs that covers
# every edge the seeds, the old corpus and the run reached (libFuzzer's
# set-cover merge on edges only: tens of files, each at most 2 KiB). The
# full working corpus stays in build-fuzz/work/ for the next run. A crash
# leaves its input in build-fuzz/artifacts/ and fails the run.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]
#   FUZZ_ARGS     more libFuzzer flags
set -eu

SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# Default: every harness, fuzz/fuzz_*.c, and the xenstore server's
# (tests/xenstore/fuzz_xs_wire.c, corpus tests/xenstore/corpus).
HARNESSES=${*:-"$(cd "$ROOT/fuzz" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' ') fuzz_xs_wire"}
B=$ROOT/build-fuzz
CC_FUZZ=${CC_FUZZ:-clang}

if ! command -v "$CC_FUZZ" >/dev/null 2>&1; then
	echo "fuzz.sh: $CC_FUZZ not found (Debian: apt-get install clang)" >&2
	exit 1
fi

cmake -S "$ROOT" -B "$B" -DCMAKE_C_COMPILER="$CC_FUZZ" -DCMAKE_BUILD_TYPE=Debug \
	-DXGNT_SANITIZE=address,undefined -DXGNT_LIBFUZZER=ON \
	-DXGNT_TESTS=OFF -DXGNT_BENCH=OFF \
	-DCMAKE_C_FLAGS="-O1 -fsanitize=fuzzer-no-link -fsanitize-coverage-ignorelist=$ROOT/fuzz/coverage-ignore.txt" >/dev/null
# shellcheck disable=SC2086
cmake --build "$B" -j"${JOBS:-2}" --target $HARNESSES

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$B/artifacts" "$B/logs"
status=0
total_runs=0
for h in $HARNESSES; do
	corpus=$ROOT/fuzz/corpus/$h
	[ "$h" = fuzz_xs_wire ] && corpus=$ROOT/tests/xenstore/corpus
	work=$B/work/$h
	log=$B/logs/$h.log
	mkdir -p "$corpus" "$work"
	echo "fuzz.sh: $h for ${SECONDS_EACH}s"
	# New inputs go to the scratch dir (first), the repository's corpus is
	# read; inputs are at most 2 KiB, long from the start (-len_control=0:
	# a long input is a long sequence of operations).
	# shellcheck disable=SC2086
	if ! "$B/fuzz/$h" -max_total_time="$SECONDS_EACH" -max_len=2048 -len_control=0 -timeout=20 \
		-rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$B/artifacts/$h-" \
		${FUZZ_ARGS:-} "$work" "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		echo "fuzz.sh: $h FAILED after ${runs:-?} executions; see $log and $B/artifacts/" >&2
		tail -n 40 "$log" >&2
		echo "$(date -u +%FT%TZ) $h seconds=$SECONDS_EACH runs=${runs:-0} FAILED" \
			>>"$B/fuzz-stats.txt"
		total_runs=$((total_runs + ${runs:-0}))
		status=1
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	# The repository keeps the seeds and a minimal edge cover of the rest.
	before=$(ls "$corpus" | wc -l)
	cover=$B/cover/$h
	rm -rf "$cover"
	mkdir -p "$cover"
	cp "$corpus"/seed-* "$cover"/ 2>/dev/null || true
	if "$B/fuzz/$h" -set_cover_merge=1 -use_counters=0 -max_len=2048 \
		"$cover" "$corpus" "$work" >>"$log" 2>&1; then
		find "$corpus" -type f ! -name 'seed-*' -delete
		find "$cover" -type f ! -name 'seed-*' -exec cp {} "$corpus"/ \;
	else
		echo "fuzz.sh: $h: merge failed, corpus left as it was; see $log" >&2
		status=1
	fi
	after=$(ls "$corpus" | wc -l)
	echo "fuzz.sh: $h: ${runs:-?} executions in ${SECONDS_EACH}s, ${cov:-cov: ?}," \
		"corpus $before -> $after files"
	echo "$(date -u +%FT%TZ) $h seconds=$SECONDS_EACH runs=${runs:-0} ${cov:-} corpus=$after" \
		>>"$B/fuzz-stats.txt"
	total_runs=$((total_runs + ${runs:-0}))
done
echo "fuzz.sh: $total_runs executions in all (history: $B/fuzz-stats.txt)"
exit $status
