#!/bin/sh
# SPDX-License-Identifier: MIT
# xgnt command line: help, argument errors, the demo in every mode (JSON
# parses, nothing mismatched), --dump and --graph; xgntd's flags, and
# xgnt domain|dump|top against it. Usage: test_cli.sh XGNT XGNTD
set -u
X=${1:?usage: test_cli.sh path/to/xgnt path/to/xgntd}
D=${2:?usage: test_cli.sh path/to/xgnt path/to/xgntd}
T=$(mktemp -d)
DPID=
trap '[ -n "$DPID" ] && kill $DPID 2>/dev/null; rm -rf "$T"' EXIT
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
XGNT_SOCKET=$T/none.sock expect 1 "daemon command without a daemon" "$X" domain list
grep -q "no daemon at $T/none.sock" "$T/err" && ok "says there is no daemon" || no "says there is no daemon"

# xgntd and the daemon's subcommands.
expect 0 "xgntd --help" "$D" --help
expect 2 "xgntd bad option" "$D" --frob
expect 2 "xgntd bad --domain" "$D" --domain 1:teleport
expect 2 "xgntd bad --memory-mib" "$D" --memory-mib 0
export XGNT_SOCKET="$T/xgntd.sock"
"$D" --domain 5:pv:16 2>"$T/derr" &
DPID=$!
for i in $(seq 50); do [ -S "$XGNT_SOCKET" ] && break; sleep 0.1; done
[ -S "$XGNT_SOCKET" ] && ok "xgntd listens" || no "xgntd listens"
expect 1 "second xgntd on the same socket" "$D"
grep -q "another xgntd is running" "$T/err" && ok "says so" || no "says another xgntd runs"
# A daemon starting on the same path (its lock held) though no socket
# answers yet: refused too, and the path is left alone.
flock "$T/starting.sock.lock" sleep 3 &
LPID=$!
for i in $(seq 50); do flock -n "$T/starting.sock.lock" true || break; sleep 0.1; done
expect 1 "xgntd while another is starting" timeout 10 "$D" --socket "$T/starting.sock"
grep -q "another xgntd is running" "$T/err" && ok "says so" || no "says another xgntd runs (lock)"
[ ! -e "$T/starting.sock" ] && ok "no socket made" || no "made a socket though refused"
kill $LPID 2>/dev/null; wait $LPID 2>/dev/null
expect 0 "domain create" "$X" domain create 1 --ram-mib 16 --vcpus 2
expect 1 "domain create: exists" "$X" domain create 1
expect 2 "domain create: bad type" "$X" domain create 3 --type sparc
expect 2 "domain create: no domid" "$X" domain create
expect 0 "domain list" "$X" domain list
awk '$1==1 && $2=="hvm" && $4==2 && $5==16 {f=1} END {exit !f}' "$T/out" && ok "list shows d1" || no "list shows d1"
awk '$1==5 && $2=="pv" {f=1} END {exit !f}' "$T/out" && ok "list shows --domain d5" || no "list shows d5"
expect 0 "dump" "$X" dump
grep -q "grant-table for remote domain 1" "$T/out" && ok "dump names d1" || no "dump names d1"
expect 1 "dump of a missing domain" "$X" dump 77
expect 0 "top -n 2" "$X" top -n 2 -d 50
grep -c "^DOMID" "$T/out" | grep -q 2 && ok "top printed twice" || no "top printed twice"
XGNT_DOMID=1 expect 1 "unprivileged domain list" "$X" domain list
grep -q "not allowed" "$T/err" && ok "says not allowed" || no "says not allowed"
expect 1 "destroy domain 0" "$X" domain destroy 0
expect 0 "destroy d1" "$X" domain destroy 1
expect 1 "destroy d1 again" "$X" domain destroy 1
kill -TERM $DPID; wait $DPID; rc=$?; DPID=
[ $rc -eq 0 ] && ok "xgntd exits 0 on SIGTERM" || no "xgntd exit $rc on SIGTERM"
[ ! -e "$XGNT_SOCKET" ] && ok "socket removed" || no "socket removed"
unset XGNT_SOCKET

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
