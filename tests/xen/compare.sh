#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every scenario on xgnt and compare with real Xen's records.
#   compare.sh RUNNER SCENARIO_DIR EXPECTED_DIR ALLOW_FILE
# allow.txt: "<file.scn> <scenario> <step> <reason...>" per explained
# difference (docs/fidelity.md, "Differential runs against real Xen"):
# that step's record is left out of the diff on both sides and printed with
# its reason. Exit 1 on any other difference.
set -eu
runner=$1 scen=$2 exp=$3 allow=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0 nscen=0 nfile=0

# Lines of allowed steps of file $1 replaced by a marker.
mask() {
	awk -v file="$1" -v allow="$allow" '
		BEGIN {
			while ((getline l < allow) > 0) {
				split(l, f, " ")
				if (f[1] == file) ok[f[2] " " f[3]] = 1
			}
		}
		/^== / { scen = substr($0, 4); print; next }
		(scen " " $1) in ok { print $1 " (explained difference, allow.txt)"; next }
		{ print }'
}

for s in "$scen"/*.scn; do
	b=$(basename "$s" .scn)
	nfile=$((nfile + 1))
	nscen=$((nscen + $(grep -c '^scenario ' "$s")))
	if [ ! -f "$exp/$b.rec" ]; then
		echo "compare: no real-Xen record $exp/$b.rec: run make check-xen" >&2
		status=1
		continue
	fi
	if ! "$runner" "$s" >"$tmp/$b.full" 2>"$tmp/$b.err"; then
		echo "compare: xgnt runner failed on $b.scn:" >&2
		cat "$tmp/$b.err" >&2
		status=1
		continue
	fi
	grep -v '^=== ' "$tmp/$b.full" >"$tmp/$b.xgnt" || true
	# explained differences: show both sides
	grep "^$b.scn " "$allow" 2>/dev/null | while read -r f sc st reason; do
		x=$(awk -v sc="$sc" -v st="$st" '/^== /{c=substr($0,4);next} c==sc && $1==st' "$exp/$b.rec")
		y=$(awk -v sc="$sc" -v st="$st" '/^== /{c=substr($0,4);next} c==sc && $1==st' "$tmp/$b.xgnt")
		if [ "$x" = "$y" ]; then
			echo "compare: note: $b/$sc step $st is allowed to differ but agrees now"
		else
			echo "explained: $b/$sc step $st: $reason"
			echo "    xen:  $x"
			echo "    xgnt: $y"
		fi
	done
	mask "$b.scn" <"$exp/$b.rec" >"$tmp/$b.a"
	mask "$b.scn" <"$tmp/$b.xgnt" >"$tmp/$b.b"
	if ! diff -u --label "xen/$b.rec" --label "xgnt/$b.rec" "$tmp/$b.a" "$tmp/$b.b"; then
		status=1
	fi
done
if [ $status = 0 ]; then
	echo "compare: $nscen scenarios in $nfile files: xgnt matches real Xen (explained differences aside)"
else
	echo "compare: DIFFERENCES between xgnt and real Xen's records" >&2
fi
exit $status
