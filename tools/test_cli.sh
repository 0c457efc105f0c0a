#!/bin/sh
# SPDX-License-Identifier: MIT
# xgnt command line: help, argument errors, the demo in every mode (JSON
# parses, nothing mismatched), --dump and --graph. Usage: test_cli.sh XGNT
set -u
X=${1:?usage: test_cli.sh path/to/xgnt}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok: $*"; }
no() { echo "FAIL: $*"; fail=1; }
expect() { # expect RC DESC CMD...
	want=$1 desc=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"; rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$desc"; else no "$desc (exit $rc, wanted $want)"; cat "$T/err"; fi
}

expect 0 "xgnt --help" "$X" --help
expect 0 "xgnt demo --help" "$X" demo --help
grep -q -- "--queue-depth" "$T/out" || no "demo --help lists --queue-depth"
expect 0 "xgnt domain --help" "$X" domain --help
expect 2 "no command" "$X"
expect 2 "unknown command" "$X" frobnicate
expect 2 "unknown option" "$X" demo --frob
expect 2 "bad number" "$X" demo --queue-depth 3x
expect 2 "queue depth out of range" "$X" demo --queue-depth 0
expect 2 "block size out of range" "$X" demo --block-size 2M
expect 2 "block size not a power of two" "$X" demo --block-size 12k
expect 2 "bad size" "$X" demo --size 12Q
expect 2 "missing value" "$X" demo --size
expect 2 "bad mode" "$X" demo --mode teleport
expect 2 "daemon command" "$X" domain list
grep -q "needs the daemon" "$T/err" || no "domain list says it needs the daemon"

for m in map persistent copy; do
	expect 0 "demo --mode $m --json" "$X" demo --size 4M --queue-depth 4 --block-size 4k --mode $m --json
	if python3 -m json.tool "$T/out" >/dev/null; then ok "$m: JSON parses"; else no "$m: JSON parses"; fi
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["mismatches"]==0 and all(r["mismatches"]==0 and r["error_responses"]==0 for r in d["results"]) and len(d["results"])==1 else 1)' "$T/out" \
		&& ok "$m: zero mismatches" || no "$m: zero mismatches"
done
expect 0 "indirect descriptors (64k, all modes)" "$X" demo --size 4M --queue-depth 4 --block-size 64k --json

expect 0 "demo --dump" "$X" demo --size 1M --queue-depth 2 --block-size 4k --mode persistent --dump
grep -q "grant-table for remote domain 1" "$T/out" && ok "dump header" || no "dump header"
grep -q "maptrack" "$T/out" && ok "dump maptrack" || no "dump maptrack"

expect 0 "demo --graph" "$X" demo --size 1M --queue-depth 2 --block-size 4k --mode persistent --graph "$T/g.dot"
grep -q "digraph" "$T/g.dot" 2>/dev/null && grep -q "d1 -> d0" "$T/g.dot" && ok "graph DOT" || no "graph DOT"

[ $fail -eq 0 ] && echo "test_cli: PASS" || echo "test_cli: FAIL"
exit $fail
