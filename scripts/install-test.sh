#!/bin/sh
# SPDX-License-Identifier: MIT
# Install a build tree into a temporary prefix, then build the README's
# example (examples/embed.c, which must match the copy in README.md) against
# it with pkg-config only: shared and static, and again after moving the
# prefix (xgnt.pc must be relocatable).
# Usage: scripts/install-test.sh BUILD_DIR        (`make install-test`)
set -eu

EXPECT="domain 2 reads: hello from domain 1"
CMAKE=${CMAKE:-cmake}

result=FAIL
step="arguments"
tmp=""

finish() {
	rc=$?
	[ -n "$tmp" ] && rm -rf "$tmp"
	if [ "$result" = PASS ]; then
		echo "install-test: PASS"
	else
		echo "install-test: FAIL ($step)" >&2
		[ "$rc" -ne 0 ] || rc=1
	fi
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

die() {
	echo "install-test: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
[ -f "$1/cmake_install.cmake" ] || die "$1 is not a configured build directory"
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
command -v pkg-config >/dev/null 2>&1 || die "pkg-config not found (scripts/deps.sh)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xgnt-install-test.XXXXXX")
cd "$root"

# pc PREFIX ARGS...: pkg-config seeing only the xgnt.pc under PREFIX.
pc() {
	_p=$1
	shift
	PKG_CONFIG_PATH="$_p/lib/pkgconfig" pkg-config "$@"
}

check_output() {
	[ "$1" = "$EXPECT" ] || die "$2 printed '$1', expected '$EXPECT'"
}

# build_and_run PREFIX LABEL: the example, linked shared then static.
build_and_run() {
	p=$1
	step="$2: shared build"
	# shellcheck disable=SC2046 # word splitting of pkg-config's flags is intended
	cc examples/embed.c $(PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --cflags --libs xgnt) \
		-o "$tmp/embed-shared"
	readelf -d "$tmp/embed-shared" | grep -q 'NEEDED.*libxgnt\.so\.0' ||
		die "$2: the shared build does not link libxgnt.so.0"
	LD_LIBRARY_PATH="$p/lib" ldd "$tmp/embed-shared" | grep -q "libxgnt\.so\.0 => $p/lib/" ||
		die "$2: libxgnt.so.0 does not resolve to $p/lib"
	step="$2: shared run"
	out=$(LD_LIBRARY_PATH="$p/lib" "$tmp/embed-shared") || die "$2: the shared build exited $?"
	check_output "$out" "$2 (shared)"

	step="$2: static build"
	libs=""
	for w in $(pc "$p" --static --libs xgnt); do
		[ "$w" = "-lxgnt" ] && w="-l:libxgnt.a"
		libs="$libs $w"
	done
	# shellcheck disable=SC2046,SC2086
	cc examples/embed.c $(pc "$p" --static --cflags xgnt) $libs -o "$tmp/embed-static"
	! readelf -d "$tmp/embed-static" | grep -q 'NEEDED.*libxgnt' ||
		die "$2: the static build still needs libxgnt.so"
	step="$2: static run"
	out=$("$tmp/embed-static") || die "$2: the static build exited $?"
	check_output "$out" "$2 (static)"

	step="$2: the guest-library example"
	# shellcheck disable=SC2046
	cc examples/guest_pair.c $(PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --cflags --libs xgnt) \
		-o "$tmp/guest-pair"
	out=$(LD_LIBRARY_PATH="$p/lib" "$tmp/guest-pair") || die "$2: guest_pair exited $?"
	printf '%s\n' "$out" | grep -qx 'frontend reads: and back' ||
		die "$2: guest_pair printed: $out"
}

# The README shows the examples in full; they must not drift apart.
for ex in embed guest_pair; do
	step="README copy of examples/$ex.c"
	awk -v mark="<!-- examples/$ex.c -->" '$0 == mark { m = 1; next }
	     m == 1 && /^```c$/ { m = 2; next }
	     m == 2 && /^```$/ { exit }
	     m == 2 { print }' README.md >"$tmp/readme-$ex.c"
	cmp -s "$tmp/readme-$ex.c" "examples/$ex.c" ||
		die "the example in README.md differs from examples/$ex.c"
done

step="cmake --install"
prefix="$tmp/prefix"
"$CMAKE" --install "$build" --prefix "$prefix" >/dev/null

step="installed files"
for f in include/xgnt/hv.h include/xgnt/guest.h include/xgnt/zephyr/gnttab.h lib/libxgnt.a lib/libxgnt.so lib/pkgconfig/xgnt.pc; do
	[ -e "$prefix/$f" ] || die "missing $f in the installed tree"
done

build_and_run "$prefix" "installed prefix"

step="relocation"
moved="$tmp/elsewhere/deeper/xgnt"
mkdir -p "$(dirname "$moved")"
mv "$prefix" "$moved"
case "$(pc "$moved" --cflags --libs xgnt)" in
*"$prefix"*) die "xgnt.pc still names the old prefix after the move" ;;
esac
build_and_run "$moved" "moved prefix"

result=PASS
