#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs vchan_bench of build tree BUILD against its own xgntd and
# xgnt-xenstored on temporary sockets. Usage: vchan.sh BUILD [vchan_bench args]
set -eu
B=$(cd "${1:?usage: vchan.sh BUILD [args]}" && pwd); shift
T=$(mktemp -d)
trap 'kill $XP 2>/dev/null; wait $XP 2>/dev/null; kill $DP 2>/dev/null; rm -rf "$T"' EXIT
export XGNT_SOCKET=$T/xgntd.sock XENSTORED_PATH=$T/xs.sock
"$B/src/daemon/xgntd" --domain 1 --gntalloc-limit 4096 & DP=$!
for i in $(seq 100); do [ -S "$XGNT_SOCKET" ] && break; sleep 0.05; done
"$B/src/xenstore/xgnt-xenstored" & XP=$!
for i in $(seq 100); do [ -S "$XENSTORED_PATH" ] && break; sleep 0.05; done
LD_LIBRARY_PATH="$B/src/compat" "$B/bench/vchan_bench" "$@"
