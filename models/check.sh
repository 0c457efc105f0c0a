#!/bin/sh
# SPDX-License-Identifier: MIT
# Model-check the SPIN models of models/ (issue 7): each correct model must
# verify with "errors: 0" and a complete search; each deliberately broken
# variant (-DBROKEN_*) must be caught (errors > 0), so a model cannot pass
# vacuously. One PASS/FAIL line per run. Needs spin and cc.
set -u

here=$(cd "$(dirname "$0")" && pwd)
command -v spin >/dev/null 2>&1 || { echo "models: spin not found (apt-get install spin)" >&2; exit 1; }
CC=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
fail=0

# run NAME MODEL EXPECT(ok|caught) [spin -D flags...]
run() {
	name=$1 model=$2 expect=$3
	shift 3
	dir="$work/$name"
	mkdir -p "$dir"
	cp "$here/$model" "$dir/"
	t0=$(date +%s.%N)
	if ! (cd "$dir" && spin "$@" -a "$model" >spin.log 2>&1 &&
	      $CC -w -O2 -DSAFETY -DCOLLAPSE -o pan pan.c >cc.log 2>&1); then
		echo "FAIL $name: spin/cc failed"; cat "$dir"/spin.log "$dir"/cc.log 2>/dev/null
		fail=1; return
	fi
	(cd "$dir" && ./pan -m1000000 >pan.log 2>&1)
	t1=$(date +%s.%N)
	log="$dir/pan.log"
	errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
	states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' "$log" | tail -1)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	incomplete=0
	grep -q -e "max search depth too small" -e "out of memory" "$log" && incomplete=1
	what="$model ${*:-(as is)}"
	if [ -z "$errors" ]; then
		echo "FAIL $name: no pan verdict ($what)"; cat "$log"; fail=1; return
	fi
	if [ "$expect" = ok ]; then
		if [ "$errors" -eq 0 ] && [ $incomplete -eq 0 ] && ! grep -q "Search not completed" "$log"; then
			echo "PASS $name: errors: 0, $states states, ${secs}s ($what)"
		else
			echo "FAIL $name: errors: $errors, incomplete=$incomplete ($what)"
			grep -e "violated" -e "invalid end" -e "too small" "$log"
			fail=1
		fi
	else
		if [ "$errors" -gt 0 ] && [ $incomplete -eq 0 ]; then
			why=$(grep -m1 -e "violated" -e "invalid end" "$log" | sed 's/^pan:[0-9]*: //')
			echo "PASS $name: broken variant caught, $why, ${secs}s ($what)"
		else
			echo "FAIL $name: broken variant NOT caught: errors: $errors, $states states ($what)"
			fail=1
		fi
	fi
}

run gnttab_v1          gnttab_v1.pml ok
run gnttab_v1-hostile  gnttab_v1.pml ok     -DHOSTILE
run evtchn_2l          evtchn_2l.pml ok
run evtchn_fifo        evtchn_fifo.pml ok
run evtchn_bell        evtchn_bell.pml ok
run gnttab_v1-no-busy-check  gnttab_v1.pml caught -DBROKEN_END
run gnttab_v1-no-ro-check    gnttab_v1.pml caught -DBROKEN_RO
run gnttab_v1-unbounded-cas  gnttab_v1.pml caught -DHOSTILE -DBROKEN_UNBOUNDED
run evtchn_2l-unmask-no-reraise  evtchn_2l.pml caught -DBROKEN_UNMASK
run evtchn_2l-upcall-cleared-late evtchn_2l.pml caught -DBROKEN_ORDER
run evtchn_fifo-unmask-no-reraise evtchn_fifo.pml caught -DBROKEN_UNMASK
run evtchn_fifo-link-unchecked    evtchn_fifo.pml caught -DBROKEN_LINK
run evtchn_bell-enable-ignores-held evtchn_bell.pml caught -DBROKEN_ENABLE
run evtchn_bell-raise-without-cas   evtchn_bell.pml caught -DBROKEN_RAISE

if [ $fail -ne 0 ]; then
	echo "models: FAILED"
	exit 1
fi
echo "models: all passed"
