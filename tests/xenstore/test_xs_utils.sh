#!/bin/sh
# SPDX-License-Identifier: MIT
# Debian's unmodified xenstore-utils (xenstore-write/-read/-ls/-list/-rm/
# -exists/-chmod/-watch) against xgnt-xenstored, plus the server's command
# line: flags, exit codes, socket defaults, SIGTERM clean-up.
# Usage: test_xs_utils.sh path/to/xgnt-xenstored
set -eu

XSD=$1
for t in xenstore-write xenstore-read xenstore-ls xenstore-list xenstore-rm \
	 xenstore-exists xenstore-chmod xenstore-watch; do
	command -v "$t" >/dev/null || {
		echo "FAIL: $t missing: install xenstore-utils (scripts/deps.sh)"; exit 1; }
done

T=$(mktemp -d /tmp/xgnt-xs-utils.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/log" ] && sed 's/^/  server: /' "$T/log"; exit 1; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }

export XENSTORED_PATH="$T/sock"
wait_up() {   # the socket appears once the server accepts: no retries
	i=0   # up to 10 s: a loaded machine can keep a new process off the CPU
	until [ -S "${XENSTORED_PATH:-$XENSTORED_RUNDIR/socket}" ]; do
		i=$((i + 1)); [ $i -lt 1000 ] || fail "server did not come up"
		sleep 0.01
	done
	eq "$(timeout 5 xenstore-read /local/domain/0/domid)" 0 "first read"
}

"$XSD" --socket "$T/sock" --domains 1,2 2>"$T/log" &
PID=$!
wait_up

# --- reads, writes, listing, removal
xenstore-write /t/a 1 /t/b "two words"
eq "$(xenstore-read /t/a)" 1 "read /t/a"
eq "$(xenstore-read /t/b)" "two words" "read /t/b"
eq "$(xenstore-list /t | tr '\n' ' ')" "a b " "list /t"
xenstore-ls /t | grep -qx 'a = "1"' || fail "xenstore-ls /t: $(xenstore-ls /t)"
xenstore-exists /t/a || fail "exists /t/a"
if xenstore-exists /t/zz 2>/dev/null; then fail "exists /t/zz"; fi
xenstore-rm /t/a
if xenstore-read /t/a 2>/dev/null; then fail "read after rm"; fi
eq "$(xenstore-read /local/domain/0/name)" Domain-0 "dom0 name"
eq "$(xenstore-read domid)" 0 "relative read as dom0"
if xenstore-write '/bad//path' x 2>/dev/null; then fail "bad path accepted"; fi

# --- domains: the process's XGNT_DOMID picks the domain
eq "$(XGNT_DOMID=1 xenstore-read domid)" 1 "relative read as dom1"
XGNT_DOMID=1 xenstore-write data/x secret
if XGNT_DOMID=2 xenstore-read /local/domain/1/data/x 2>/dev/null; then
	fail "dom2 read dom1's node"
fi
if XGNT_DOMID=2 xenstore-write /local/domain/1/data/y v 2>/dev/null; then
	fail "dom2 wrote into dom1's home"
fi
XGNT_DOMID=1 xenstore-chmod -r data n1 r2
eq "$(XGNT_DOMID=2 xenstore-read /local/domain/1/data/x)" secret "dom2 read after chmod"
xenstore-ls -p /local/domain/1 | grep 'data = ""' | grep -q '(n1,r2)' ||
	fail "xenstore-ls -p: $(xenstore-ls -p /local/domain/1)"
for bad in junk " 1" -1 +1 1x 32752 99999999999; do
	if XGNT_DOMID="$bad" xenstore-read domid 2>/dev/null; then
		fail "bad XGNT_DOMID '$bad' accepted"
	fi
done
eq "$(XGNT_DOMID=32751 xenstore-read /local/domain/0/name 2>&1 || true)" \
	"xenstore-read: couldn't read path /local/domain/0/name" "highest domid acts unprivileged"
eq "$(XGNT_DOMID= xenstore-read domid)" 0 "empty XGNT_DOMID (as absent)"

# --- watches: once up front, then each change below the path
xenstore-write /w ""
: >"$T/watch"
timeout 10 xenstore-watch -n 3 /w >"$T/watch" 2>&1 &
WPID=$!
i=0
until [ "$(wc -l <"$T/watch")" -ge 1 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "no up-front watch event"; sleep 0.05
done
xenstore-write /w/c 3
xenstore-rm /w/c
wait $WPID || fail "xenstore-watch: $(cat "$T/watch")"
eq "$(tr '\n' ' ' <"$T/watch")" "/w /w/c /w/c " "watch events"

# --- command line
"$XSD" --bogus >/dev/null 2>&1 && fail "--bogus accepted" || eq $? 2 "--bogus exit"
"$XSD" --quota-nodes abc >/dev/null 2>&1 && fail "bad number" || eq $? 2 "bad number exit"
"$XSD" --domains 1,x >/dev/null 2>&1 && fail "bad domains" || eq $? 2 "bad domains exit"
"$XSD" extra >/dev/null 2>&1 && fail "extra arg" || eq $? 2 "extra arg exit"
"$XSD" --help | grep -q '^Usage: xgnt-xenstored' || fail "--help"
"$XSD" --socket "$T/sock" 2>"$T/err2" && fail "second server started" || eq $? 1 "second server exit"
grep -q "another server" "$T/err2" || fail "second server message: $(cat "$T/err2")"
# one starting on the same path (its lock held), with no socket there yet
flock "$T/starting.lock" sleep 3 &
LPID=$!
for i in $(seq 50); do flock -n "$T/starting.lock" true || break; sleep 0.1; done
timeout 10 "$XSD" --socket "$T/starting" 2>"$T/err3" && fail "server started though locked out" ||
	eq $? 1 "locked-out server exit"
grep -q "another server" "$T/err3" || fail "locked-out message: $(cat "$T/err3")"
[ ! -e "$T/starting" ] || fail "locked-out server made a socket"
kill $LPID 2>/dev/null; wait $LPID 2>/dev/null || true
"$XSD" --socket "$T/sock" --xgnt-socket "$T/nodaemon" 2>/dev/null && fail "bad daemon" || eq $? 1 "explicit daemon exit"

# --- SIGTERM: clean exit, socket removed; the store goes with it
kill -TERM "$PID"
wait "$PID" || fail "exit status $? after SIGTERM"
PID=
[ ! -e "$T/sock" ] || fail "socket left behind"

# --- default socket: $XENSTORED_RUNDIR/socket (as libxenstore looks)
unset XENSTORED_PATH
XENSTORED_RUNDIR="$T/run" "$XSD" 2>"$T/log" &
PID=$!
export XENSTORED_RUNDIR="$T/run"
wait_up
[ -S "$T/run/socket" ] || fail "no socket at \$XENSTORED_RUNDIR/socket"
kill -INT "$PID"
wait "$PID" || fail "exit status $? after SIGINT"
PID=
[ ! -e "$T/run/socket" ] || fail "socket left behind after SIGINT"
echo "PASS: xenstore-utils against xgnt-xenstored"
