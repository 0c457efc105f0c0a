#!/bin/sh
# SPDX-License-Identifier: MIT
# A program linked against Debian's libxengnttab/libxenevtchn runs on
# xgntd once LD_LIBRARY_PATH names the build's drop-in libraries: its
# result says it worked, and the dynamic linker's bindings say which
# library served it. Without LD_LIBRARY_PATH it gets Debian's library,
# which needs /dev/xen and fails. Also: xgntd's start, refusal of a second
# daemon on a live socket, and clean SIGTERM shutdown.
# usage: test_dmn_dropin.sh XGNTD PROG COMPAT_DIR
set -u
XGNTD=$1 PROG=$2 COMPAT=$3
fail() { echo "FAIL: $*" >&2; [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; exit 1; }

dir=$(mktemp -d /tmp/xgntd-dropin.XXXXXX) || exit 1
sock=$dir/run/xgntd.sock   # its directory is created

# Up once it accepts on $sock: the file alone says nothing after a
# SIGKILL, when the dead daemon's socket is there until the new one has
# replaced it (a slow start then raced the second daemon below for it).
accepts() {
	/usr/bin/python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET).connect(sys.argv[1])' "$sock" 2>/dev/null
}
start() {
	"$XGNTD" --socket "$sock" --memory-mib 128 &
	pid=$!
	i=0
	until [ -S "$sock" ] && accepts; do
		i=$((i + 1)); [ $i -gt 1000 ] && fail "xgntd does not accept on $sock"
		kill -0 "$pid" 2>/dev/null || fail "xgntd exited at start"
		sleep 0.01
	done
}

# A daemon killed with SIGKILL leaves a stale socket: the next one
# replaces it.
start
kill -9 "$pid"; wait "$pid" 2>/dev/null
[ -S "$sock" ] || fail "no stale socket after SIGKILL?"
start

# A second daemon on the same live socket refuses to start.
"$XGNTD" --socket "$sock" 2>"$dir/second.err" && fail "a second xgntd started on a live socket"
grep -q "another xgntd" "$dir/second.err" || fail "second xgntd: $(cat "$dir/second.err")"

export XGNT_SOCKET="$sock" XGNT_DOMID=0

# Debian's library alone: no /dev/xen here, so it must fail.
if [ ! -e /dev/xen/gntdev ]; then
	out=$("$PROG" 2>/dev/null) && fail "Debian's own library worked without /dev/xen?: $out"
fi

out=$(LD_LIBRARY_PATH="$COMPAT" LD_DEBUG=bindings LD_DEBUG_OUTPUT="$dir/ld" "$PROG") ||
	fail "drop-in run: $out"
[ "$out" = "dropin: ok" ] || fail "drop-in run printed: $out"
cat "$dir"/ld.* >"$dir/ld" 2>/dev/null || fail "no LD_DEBUG output"
for sym in xengntshr_share_pages xengnttab_map_grant_ref_notify xenevtchn_bind_interdomain; do
	grep "normal symbol \`$sym'" "$dir/ld" | grep -q "to $COMPAT/libxen" ||
		fail "$sym not bound to $COMPAT: $(grep "\`$sym'" "$dir/ld")"
done
grep "normal symbol \`xengnttab_open'" "$dir/ld" | grep -q "/usr/lib" &&
	fail "xengnttab_open bound to the system library"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ $rc -eq 0 ] || fail "xgntd exited $rc after SIGTERM"
[ -e "$sock" ] && fail "xgntd left $sock"
rm -rf "$dir"
echo "PASS"
