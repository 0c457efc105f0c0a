#!/bin/sh
# SPDX-License-Identifier: MIT
# Differential conformance against real Xen (issue 8): fetch Debian's Xen
# 4.17, kernel and busybox (downloaded and unpacked, not installed; QEMU is
# apt-installed if missing), build a dom0 initramfs holding the static
# real-Xen runner and the scenarios, boot Xen under QEMU TCG, collect the
# records, run the same scenarios on xgnt and compare (tests/xen/compare.sh,
# with the explained differences of tests/xen/allow.txt).
#
#   tests/xen/run.sh [BUILD_DIR]         (make check-xen: BUILD_DIR=build)
#
# The real-Xen records are written to tests/xen/expected/*.rec (commit them:
# the unit test xen_expected compares xgnt against them without QEMU).
# Environment: XGNT_XEN_CACHE (downloads, default
# ${XDG_CACHE_HOME:-$HOME/.cache}/xgnt-xen), XGNT_XEN_TIMEOUT (seconds for
# the boot, default 300), XGNT_XEN_KEEP_EXPECTED=1 (compare only, do not
# rewrite expected/).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
cache=${XGNT_XEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xgnt-xen}
timeout_s=${XGNT_XEN_TIMEOUT:-300}
work=$build/tests/xen/run
t0=$(date +%s)

fail() {
	echo "check-xen: FAILED: $*" >&2
	exit 1
}
note() { echo "check-xen: $*"; }

mkdir -p "$cache/debs" "$work"

# ---- packages ---------------------------------------------------------------
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	note "installing qemu-system-x86 (apt)"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || ! command -v sudo >/dev/null 2>&1 || SUDO="sudo"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q qemu-system-x86 >"$work/apt-qemu.log" 2>&1 ||
		fail "qemu-system-x86_64 is missing and apt-get install qemu-system-x86 failed (see $work/apt-qemu.log; no network or not root?)"
fi
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
if [ -z "$kpkg" ]; then
	# no apt lists: the kernel downloaded last time, if any
	kpkg=$(ls "$cache"/debs/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | tail -1 | sed 's|.*/||; s|_.*||')
fi
[ -n "$kpkg" ] || fail "cannot resolve linux-image-amd64 to a kernel package (apt-cache; run apt-get update?)"
want="xen-hypervisor-4.17-amd64 $kpkg busybox-static"
for p in $want; do
	if ! ls "$cache/debs/${p}_"*.deb >/dev/null 2>&1; then
		note "downloading $p"
		(cd "$cache/debs" && apt-get download "$p" >"$work/apt-$p.log" 2>&1) ||
			fail "apt-get download $p failed (see $work/apt-$p.log): packages cannot be fetched, no network?"
	fi
done
for p in $want; do
	deb=$(ls "$cache/debs/${p}_"*.deb | tail -1)
	stamp="$cache/root-$p/.from"
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$deb" ]; then
		rm -rf "$cache/root-$p"
		mkdir -p "$cache/root-$p"
		dpkg -x "$deb" "$cache/root-$p" || fail "dpkg -x $deb"
		echo "$deb" >"$stamp"
	fi
done
xenroot=$cache/root-xen-hypervisor-4.17-amd64
kroot=$cache/root-$kpkg
busybox=$cache/root-busybox-static/bin/busybox
kver=${kpkg#linux-image-}
vmlinuz=$kroot/boot/vmlinuz-$kver
xengz=$(ls "$xenroot"/boot/xen-4.17*-amd64.gz 2>/dev/null | head -1)
[ -f "$vmlinuz" ] || fail "no $vmlinuz in $kpkg"
[ -n "$xengz" ] || fail "no boot/xen-4.17*-amd64.gz in xen-hypervisor-4.17-amd64"
[ -x "$busybox" ] || fail "no busybox in busybox-static"
[ -f "$cache/xen.elf" ] && [ "$cache/xen.elf" -nt "$xengz" ] || zcat "$xengz" >"$cache/xen.elf"

# ---- the static runner and the initramfs -----------------------------------
scendir=${XGNT_XEN_SCENARIOS:-$here/scenarios}
scen=$(ls "$scendir"/*.scn)
gcc -static -O2 -Wall -Wextra -Werror -D_GNU_SOURCE \
	-D__XEN_INTERFACE_VERSION__=__XEN_LATEST_INTERFACE_VERSION__ \
	"$here/runner.c" "$here/steps_gnttab.c" "$here/steps_evtchn.c" "$here/backend_xen.c" -o "$work/xgnt-xen-runner" ||
	fail "building the static real-Xen runner (gcc -static, libxen-dev headers)"
ird=$work/initramfs
rm -rf "$ird"
mkdir -p "$ird/bin" "$ird/sbin" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/mod" "$ird/scn" "$ird/tmp"
cp "$busybox" "$ird/bin/busybox"
for a in sh mount insmod mkdir cat ls poweroff sleep echo mknod; do ln -s busybox "$ird/bin/$a"; done
cp "$work/xgnt-xen-runner" "$ird/bin/"
cp $scen "$ird/scn/"
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
	f=$(find "$kroot/lib/modules/$kver" -name "$m.ko*" | head -1)
	[ -n "$f" ] || fail "kernel module $m not in $kpkg"
	case $f in
	*.xz) xz -dc "$f" >"$ird/mod/$m.ko" ;;
	*.zst) zstd -dcq "$f" >"$ird/mod/$m.ko" ;;
	*) cp "$f" "$ird/mod/$m.ko" ;;
	esac
done
cat >"$ird/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
	insmod /mod/$m.ko || echo "XSTATUS insmod $m failed"
done
mount -t xenfs xenfs /proc/xen
sleep 1
if /bin/xgnt-xen-runner -p 'XREC ' /scn/*.scn; then
	echo "XSTATUS runner ok"
else
	echo "XSTATUS runner failed rc=$?"
fi
poweroff -f
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$work/dom0.cpio.gz" ||
	fail "building the initramfs"

# ---- boot real Xen -------------------------------------------------------------
log=$work/serial.log
rm -f "$log"
note "booting Xen 4.17 ($(basename "$xengz")) + $kpkg under QEMU TCG"
tb=$(date +%s)
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -cpu qemu64 -m 2048 -smp 1 \
	-display none -no-reboot -serial "file:$log" -monitor none \
	-kernel "$cache/xen.elf" \
	-append 'console=com1 com1=115200,8n1 dom0_mem=512M,max:512M loglvl=warning guest_loglvl=none' \
	-initrd "$vmlinuz console=hvc0 earlyprintk=xen panic=-1 quiet loglevel=1,$work/dom0.cpio.gz" \
	</dev/null >"$work/qemu.out" 2>&1 || fail "QEMU failed or timed out after ${timeout_s}s (see $log, $work/qemu.out)"
note "Xen run: $(( $(date +%s) - tb )) s"
tr -d '\r' <"$log" >"$work/serial.txt"
grep -q '^XSTATUS runner ok' "$work/serial.txt" ||
	fail "the runner did not complete in dom0: $(grep '^XSTATUS' "$work/serial.txt" | tr '\n' ' ') (see $log)"
grep '^XREC ' "$work/serial.txt" | sed 's/^XREC //' >"$work/xen.rec"
grep -q '^=== end$' "$work/xen.rec" || fail "records incomplete (see $log)"

# Split per scenario file into expected/ (or a scratch dir).
if [ "${XGNT_XEN_KEEP_EXPECTED:-0}" = 1 ]; then
	exp=$work/expected
else
	exp=$here/expected
fi
mkdir -p "$exp"
awk -v dir="$exp" '
	/^=== file / { f = $3; sub(/\.scn$/, ".rec", f); out = dir "/" f; printf "" > out; next }
	/^=== end$/ { next }
	{ print >> out }' "$work/xen.rec"

# ---- the same scenarios on xgnt, and the comparison ----------------------------
xr=$build/tests/xen/xgnt-xen-runner-xgnt
[ -x "$xr" ] || fail "$xr not built (cmake --build $build)"
status=0
"$here/compare.sh" "$xr" "$here/scenarios" "$exp" "$here/allow.txt" || status=$?
note "total wall time: $(( $(date +%s) - t0 )) s"
[ $status = 0 ] || fail "unexplained differences between real Xen and xgnt (above)"
note "real Xen and xgnt agree on every scenario (explained differences: tests/xen/allow.txt)"
