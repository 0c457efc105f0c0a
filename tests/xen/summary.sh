#!/bin/sh
# SPDX-License-Identifier: MIT
# The scenarios and real Xen's answers, as a Markdown table per file, from
# tests/xen/expected/*.rec (for docs/fidelity.md). Per step: the op and its
# result (errno, GNTST status, what fired, counts); "ok" when it succeeded
# with nothing more to say. Grant, fill and peek steps are left out.
set -eu
dir=${1:-$(dirname "$0")/expected}
for f in "$dir"/*.rec; do
	echo
	echo "**$(basename "$f" .rec).scn**"
	echo
	echo "| Scenario | Real Xen 4.17 (= xgnt unless allow-listed) |"
	echo "|---|---|"
	awk '
	/^== / { if (name) print "| `" name "` | " ans " |"; name = substr($0, 4); ans = ""; next }
	{
		op = $2; s = ""
		if (op == "grant" || op == "fill" || op == "peek") next
		for (i = 3; i <= NF; i++) {
			t = $i; gsub(/[\[\]]/, "", t)
			if (t ~ /^(ret=-|rc=-|st=|fired=|okay=|then=|version=|nr_frames=|frames_written=|err-)/ ||
			    (op == "vcpu_op" && t ~ /^ret=/) ||
			    t ~ /^(closed|unbound|interdomain|ipi|virq)$/)
				s = s (s ? " " : "") t
		}
		if (s == "") s = "ok"
		ans = ans (ans ? "; " : "") op " " s
	}
	END { if (name) print "| `" name "` | " ans " |" }' "$f"
done
