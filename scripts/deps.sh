#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages the build and the tests need, when missing.
# Called by `make check`; safe to run again (does nothing when all present).
set -eu

PKGS="build-essential cmake pkg-config libxen-dev libcmocka-dev spin"
# xgnt-xenstored interop tests: Debian's unmodified xenstore clients
PKGS="$PKGS xenstore-utils python3-pyxs libxenstore4"
# tests/interop: Debian's unmodified libxenvchan
PKGS="$PKGS libxenmisc4.17"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	exec "$(dirname "$0")/fetch-debs.sh"
fi

echo "xgnt: installing missing packages:$missing"
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "xgnt: need root (or sudo) to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
exec "$(dirname "$0")/fetch-debs.sh"
