#!/bin/sh
# SPDX-License-Identifier: MIT
# Debian's unmodified libxenvchan and vchan-socket-proxy between processes
# acting as domains of one xgntd, with xgnt-xenstored: megabytes both ways
# with checksums, every ring size, same and different domains, kill -9 of
# either side, and nothing left behind in the daemon.
# Usage: run.sh XGNTD XENSTORED XGNT VCHAN_PEER COMPAT_DIR VCHAN_SOCKET_PROXY
set -u
D=$1 XS=$2 X=$3 PEER=$4 COMPAT=$5 VSP=$6
T=$(mktemp -d)
pids=
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fail=0
ok() { echo "ok: $*"; }
no() { echo "FAIL: $*"; fail=1; }

# Sanitizer trees move fewer bytes; the release tree hundreds of MB.
if [ -n "${XGNT_SANITIZED:-}" ]; then BIG=33554432; MID=4194304; else BIG=268435456; MID=16777216; fi

export XGNT_SOCKET=$T/xgntd.sock XENSTORED_PATH=$T/xenstored.sock
"$D" --domain 1 --domain 2 --gntalloc-limit 4096 2>"$T/xgntd.log" &
DPID=$!; pids="$pids $DPID"
for i in $(seq 400); do [ -S "$XGNT_SOCKET" ] && break; sleep 0.05; done
"$XS" 2>"$T/xs.log" &
pids="$pids $!"
for i in $(seq 400); do [ -S "$XENSTORED_PATH" ] && break; sleep 0.05; done
[ -S "$XGNT_SOCKET" ] && [ -S "$XENSTORED_PATH" ] && ok "daemons up" || { no "daemons up"; cat "$T"/*.log; exit 1; }

# The peers: Debian's libxenvchan, our libraries first.
peer() { # peer DOMID ARGS...
	dom=$1; shift
	XGNT_DOMID=$dom LD_LIBRARY_PATH="$COMPAT" LD_PRELOAD="${XGNT_PRELOAD:-}" \
		ASAN_OPTIONS=detect_leaks=0 exec "$PEER" "$@"
}

# pair NAME SRV_DOM CLI_DOM BYTES [READ_MIN WRITE_MIN]: both ways at once.
n=0
pair() {
	name=$1 sd=$2 cd=$3 bytes=$4; shift 4
	n=$((n + 1)); path=/local/domain/$sd/data/vchan/$cd/t$n
	peer "$sd" server "$cd" "$path" "$bytes" "$@" >"$T/s.out" 2>&1 &
	sp=$!
	for i in $(seq 400); do xenstore-read "$path/event-channel" >/dev/null 2>&1 && break; sleep 0.05; done
	(peer "$cd" client "$sd" "$path" "$bytes") >"$T/c.out" 2>&1
	crc=$?
	wait $sp; src=$?
	if [ $crc -eq 0 ] && [ $src -eq 0 ] && grep -q "^ok $bytes $bytes" "$T/c.out" &&
	   grep -q "^ok $bytes $bytes" "$T/s.out"; then
		ok "$name: $bytes bytes each way verified ($(awk '/^ok/{print $4}' "$T/c.out") s)"
	else
		no "$name (server $src, client $crc)"; cat "$T/s.out" "$T/c.out"
	fi
}

pair "d0 server, d1 client, 1 MiB rings" 0 1 $BIG 1048576 1048576
pair "default rings (in-page 1024/2048)" 0 1 $MID
pair "rings 4 KiB" 0 1 $MID 4096 4096
pair "rings 64 KiB / 8 KiB" 0 1 $MID 65536 8192
pair "d1 server, d2 client" 1 2 $MID 262144 262144
pair "same domain (loopback) d1 <-> d1" 1 1 $MID 65536 65536
pair "same domain (loopback) d0 <-> d0" 0 0 $MID 16384 16384

# kill -9 of either side mid-transfer: the other notices (libxenvchan's
# is_open, from the unmap-notify byte and event) and exits 3.
for victim in server client; do
	n=$((n + 1)); path=/local/domain/0/data/vchan/1/k$n
	peer 0 server 1 "$path" 100000000000 65536 65536 >"$T/s.out" 2>&1 &
	sp=$!
	for i in $(seq 400); do xenstore-read "$path/event-channel" >/dev/null 2>&1 && break; sleep 0.05; done
	peer 1 client 0 "$path" 100000000000 >"$T/c.out" 2>&1 &
	cp=$!
	# Mid-transfer: both ends connected (the server prints "connected"
	# once the client is), then a second of traffic. A fixed sleep alone
	# could kill a side that a loaded machine had not yet started.
	for i in $(seq 400); do
		grep -q '^connected' "$T/s.out" && grep -q '^connected' "$T/c.out" && break
		sleep 0.05
	done
	sleep 1
	if [ $victim = server ]; then kill -9 $sp; survivor=$cp; else kill -9 $cp; survivor=$sp; fi
	( sleep 15; kill -9 $survivor 2>/dev/null ) &
	guard=$!
	wait $survivor; rc=$?
	kill $guard 2>/dev/null
	wait $sp $cp 2>/dev/null
	if [ $rc -eq 3 ]; then ok "kill -9 of the $victim: the other side saw it close"
	else no "kill -9 of the $victim: survivor exit $rc"; cat "$T/s.out" "$T/c.out"; fi
done

# vchan-socket-proxy (Debian's binary, unmodified): a Unix socket bridged
# through a vchan from d1 (server side, next to an upper-casing service) to
# d0 (client side, stdin/stdout).
if [ -x "$VSP" ]; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
while True:
    d = c.recv(65536)
    if not d: break
    c.sendall(d.upper())
' "$T/svc.sock" &
	pids="$pids $!"
	for i in $(seq 400); do [ -S "$T/svc.sock" ] && break; sleep 0.05; done
	XGNT_DOMID=1 LD_LIBRARY_PATH="$COMPAT" LD_PRELOAD="${XGNT_PRELOAD:-}" ASAN_OPTIONS=detect_leaks=0 \
		"$VSP" -m server 0 /local/domain/1/data/vchan/0/vsp "$T/svc.sock" >"$T/vsp.log" 2>&1 &
	vsp=$!; pids="$pids $vsp"
	for i in $(seq 400); do xenstore-read /local/domain/1/data/vchan/0/vsp/ring-ref >/dev/null 2>&1 && break; sleep 0.05; done
	(echo "hello through a vchan"; sleep 1) | LD_LIBRARY_PATH="$COMPAT" LD_PRELOAD="${XGNT_PRELOAD:-}" \
		ASAN_OPTIONS=detect_leaks=0 timeout 20 "$VSP" -m client 1 /local/domain/1/data/vchan/0/vsp - \
		>"$T/vsp.out" 2>>"$T/vsp.log"
	if grep -q "HELLO THROUGH A VCHAN" "$T/vsp.out"; then ok "vchan-socket-proxy round trip"
	else no "vchan-socket-proxy round trip"; cat "$T/vsp.log"; fi
	kill $vsp; wait $vsp 2>/dev/null
else
	no "vchan-socket-proxy not found at $VSP (scripts/fetch-debs.sh)"
fi

# xgnt-xenstored follows xgntd's domains: a created domain gets its
# /local/domain/<id>/domid, a destroyed one fires @releaseDomain and goes.
"$X" domain create 7 --ram-mib 16 >/dev/null 2>&1 || no "xgnt domain create 7"
for i in $(seq 400); do [ "$(xenstore-read /local/domain/7/domid 2>/dev/null)" = 7 ] && break; sleep 0.05; done
[ "$(xenstore-read /local/domain/7/domid 2>/dev/null)" = 7 ] && ok "xenstore: /local/domain/7/domid after create" ||
	no "xenstore: /local/domain/7/domid after create"
xenstore-watch -n 2 @releaseDomain >"$T/watch.out" 2>&1 &
wp=$!
# The watch is set once its up-front event is out; a destroy before
# that would fire nothing this watch could see.
for i in $(seq 400); do grep -q '^@releaseDomain' "$T/watch.out" && break; sleep 0.05; done
"$X" domain destroy 7 >/dev/null 2>&1 || no "xgnt domain destroy 7"
( sleep 20; kill $wp 2>/dev/null ) & guard=$!
wait $wp; kill $guard 2>/dev/null
[ "$(grep -c '^@releaseDomain' "$T/watch.out")" -ge 2 ] && ok "xenstore: @releaseDomain fired on destroy" ||
	{ no "xenstore: @releaseDomain fired on destroy"; cat "$T/watch.out"; }
for i in $(seq 400); do xenstore-read /local/domain/7/domid >/dev/null 2>&1 || break; sleep 0.05; done
xenstore-read /local/domain/7/domid >/dev/null 2>&1 && no "xenstore: d7 removed" || ok "xenstore: d7 removed"

# Nothing left behind: no grants, mappings or ports in any domain.
sleep 0.5
"$X" domain list >"$T/list" 2>&1
if awk 'NR > 1 && ($7 != 0 || $8 != 0 || $9 != 0) {bad=1} END {exit bad}' "$T/list"; then
	ok "daemon: no grants, mappings or ports left"
else
	no "daemon: something left behind"; cat "$T/list"
fi
kill -0 $DPID 2>/dev/null && ok "xgntd alive" || no "xgntd died"; cat "$T/xgntd.log"

[ $fail -eq 0 ] && echo "interop_vchan: PASS" || echo "interop_vchan: FAIL"
exit $fail
