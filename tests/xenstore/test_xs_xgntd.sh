#!/bin/sh
# SPDX-License-Identifier: MIT
# xgnt-xenstored learning its domains from the real xgntd: domains at start,
# `xgnt domain create|destroy` later (@introduceDomain, @releaseDomain, the
# home directories), a privileged domain, the daemon going away, and a new
# daemon on the same socket (the server relinks and takes its domains).
# Registered only where the tree has xgntd and the xgnt tool.
# Usage: test_xs_xgntd.sh XGNTD XGNT XENSTORED
set -eu
D=$1 X=$2 XSD=$3
command -v xenstore-read >/dev/null || {
	echo "FAIL: xenstore-utils missing (scripts/deps.sh)"; exit 1; }

T=$(mktemp -d /tmp/xgnt-xs-xgntd.XXXXXX)
DPID= SPID= WPID=
cleanup() {
	for p in $WPID $SPID $DPID; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$T"/*.log; do [ -f "$f" ] && sed "s|^|  $(basename "$f"): |" "$f"; done
	exit 1
}
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"; }
waitfor() {   # waitfor WHAT COMMAND...
	what=$1; shift; i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 200 ] || fail "timed out: $what"; sleep 0.05
	done
}

export XGNT_SOCKET="$T/xgntd.sock" XENSTORED_PATH="$T/xs.sock"
"$D" --domain 1 --domain 7:hvm:64:1:priv 2>"$T/xgntd.log" &
DPID=$!
waitfor "xgntd socket" test -S "$XGNT_SOCKET"
"$XSD" -v 2>"$T/xs.log" &
SPID=$!
# ready when the socket appears, with the daemon's domains already in
waitfor "xenstored socket" test -S "$XENSTORED_PATH"

# domains that existed before the server started
eq "$(xenstore-read /local/domain/1/domid)" 1 "dom1 domid"
eq "$(xenstore-read /local/domain/7/domid)" 7 "dom7 domid"
# dom7 is privileged: it may read dom1's private home; dom1 may not read dom7's
eq "$(XGNT_DOMID=7 xenstore-read /local/domain/1/domid)" 1 "privileged dom7 reads"
if XGNT_DOMID=1 xenstore-read /local/domain/7/domid 2>/dev/null; then
	fail "dom1 read dom7's home"
fi

# domains created and destroyed while it runs
timeout 20 xenstore-watch -n 2 @introduceDomain >"$T/intro" 2>&1 &
WPID=$!
waitfor "up-front @introduceDomain" grep -q . "$T/intro"
"$X" domain create 5 >/dev/null
wait $WPID || fail "watch @introduceDomain: $(cat "$T/intro")"
WPID=
eq "$(tr '\n' ' ' <"$T/intro")" "@introduceDomain @introduceDomain " "introduce events"
eq "$(xenstore-read /local/domain/5/domid)" 5 "dom5 home"
eq "$(XGNT_DOMID=5 xenstore-read domid)" 5 "dom5 relative read"
XGNT_DOMID=5 xenstore-write data/x v

timeout 20 xenstore-watch -n 2 @releaseDomain >"$T/rel" 2>&1 &
WPID=$!
waitfor "up-front @releaseDomain" grep -q . "$T/rel"
"$X" domain destroy 5 >/dev/null
wait $WPID || fail "watch @releaseDomain: $(cat "$T/rel")"
WPID=
if xenstore-exists /local/domain/5 2>/dev/null; then fail "dom5 home left"; fi

# the daemon goes away: the server keeps serving what it knows
kill "$DPID"; wait "$DPID" || true
DPID=
waitfor "link closed in the log" grep -q "daemon link closed" "$T/xs.log"
eq "$(xenstore-read /local/domain/1/domid)" 1 "after the daemon left"

# a new daemon at the same socket: the server relinks, and the new
# machine's domains replace the old ones (dom1 and dom7 released, dom3 in)
timeout 20 xenstore-watch -n 2 @releaseDomain >"$T/rel2" 2>&1 &
WPID=$!
waitfor "up-front @releaseDomain (relink)" grep -q . "$T/rel2"
"$D" --domain 3 2>"$T/xgntd2.log" &
DPID=$!
waitfor "link back in the log" grep -q "daemon link back" "$T/xs.log"
wait $WPID || fail "watch @releaseDomain after relink: $(cat "$T/rel2")"
WPID=
eq "$(xenstore-read /local/domain/3/domid)" 3 "dom3 home after relink"
if xenstore-exists /local/domain/1 2>/dev/null; then fail "dom1 home left after relink"; fi
if xenstore-exists /local/domain/7 2>/dev/null; then fail "dom7 home left after relink"; fi
"$X" domain create 9 >/dev/null
waitfor "dom9 home from the new daemon" xenstore-exists /local/domain/9/domid
kill "$DPID"; wait "$DPID" || true
DPID=

kill "$SPID"; wait "$SPID" || fail "xenstored exit status $?"
SPID=

# neither --xgnt-socket nor $XGNT_SOCKET: xgntd's default socket
mkdir -m 700 "$T/xdg"
unset XGNT_SOCKET
XDG_RUNTIME_DIR="$T/xdg" "$D" --domain 4 2>"$T/xgntd3.log" &
DPID=$!
waitfor "default xgntd socket" test -S "$T/xdg/xgnt/xgntd.sock"
XDG_RUNTIME_DIR="$T/xdg" "$XSD" -v --socket "$T/xs2.sock" 2>"$T/xs2.log" &
SPID=$!
waitfor "xenstored socket (default daemon)" test -S "$T/xs2.sock"
eq "$(XENSTORED_PATH="$T/xs2.sock" xenstore-read /local/domain/4/domid)" 4 \
	"dom4 from the default daemon"
kill "$SPID"; wait "$SPID" || fail "xenstored exit status $?"
SPID=
kill "$DPID"; wait "$DPID" || true
DPID=
echo "PASS: xgnt-xenstored with xgntd"
