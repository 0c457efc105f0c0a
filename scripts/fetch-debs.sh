#!/bin/sh
# SPDX-License-Identifier: MIT
# Debian packages the interop tests run programs from without installing
# them (their own dependencies would pull in a hypervisor, grub and
# systemd): fetched with apt-get download and unpacked under DIR
# (default .deps/ at the top of the tree). Today: xen-utils-4.17, for
# /usr/lib/xen-4.17/bin/vchan-socket-proxy. Does nothing when present.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/.deps}
mkdir -p "$dir"
cd "$dir"
for pkg in xen-utils-4.17; do
	[ -e "$pkg.unpacked" ] && continue
	rm -f "$pkg"_*.deb
	# apt's sandbox user cannot write here: download as ourselves.
	if ! apt-get download -o APT::Sandbox::User=root "$pkg" >/dev/null 2>&1 &&
	   ! apt-get download "$pkg"; then
		echo "xgnt: cannot download $pkg with apt-get (no network, or no Debian 12 sources?)" >&2
		exit 1
	fi
	dpkg -x "$pkg"_*.deb root
	touch "$pkg.unpacked"
done
