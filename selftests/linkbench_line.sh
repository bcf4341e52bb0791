#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# linkbench_line.sh - softee-linkbench line, the probe the benchmarks print
# beside their figures: it passes a cache line between two CPUs and gives
# its round trip; a peer CPU it cannot have is an error, not a hang or a
# figure.  TAP output.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
LB=${SOFTEE_BUILD_DIR:-build}/softee-linkbench
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }

[ -x "$LB" ] || { echo "1..0 # SKIP $LB is not built (make)"; exit 4; }
cpus=$(nproc)
[ "$cpus" -ge 2 ] || { echo "1..0 # SKIP one CPU: the probe needs two"; exit 4; }

bad=1023	# the last CPU a cpu_set_t holds: a CPU no process here may use
[ -e /sys/devices/system/cpu/cpu$bad ] && { echo "1..0 # SKIP this machine has a CPU $bad"; exit 4; }

echo "1..3"

# Two CPUs: a figure, from every round trip asked for (11 batches of 2000).
out=$(timeout 30 "$LB" line --cpu 0 --peer-cpu 1 --count 22000 2>&1); rc=$?
rt=$(sed -n 's/.* rt_ns=\([0-9.]*\) .*/\1/p' <<<"$out")
min=$(sed -n 's/.* rt_min_ns=\([0-9.]*\).*/\1/p' <<<"$out")
trips=$(sed -n 's/.* round_trips=\([0-9]*\) .*/\1/p' <<<"$out")
if [ $rc = 0 ] && [ "$trips" = 22000 ] &&
   awk -v r="$rt" -v m="$min" 'BEGIN { exit !(r > 0 && m > 0 && m <= r && r < 1e9) }'; then
	ok "line between CPU 0 and 1: $rt ns (fastest batch $min ns)"
else
	not_ok "line between CPU 0 and 1 (exit $rc, want 0, 22000 round trips and 0 < min <= rt): $out"
fi

# The other end on a CPU this process may not use: the pin fails, it says so.
out=$(timeout 30 "$LB" line --cpu 0 --peer-cpu "$bad" 2>&1); rc=$?
if [ $rc = 1 ] && grep -q "cannot pin the peer to CPU $bad" <<<"$out" && ! grep -q "result" <<<"$out"; then
	ok "a peer CPU it cannot have: exit 1, no figure"
else
	not_ok "a peer CPU it cannot have (exit $rc, want 1 and 'cannot pin the peer'): $out"
fi

# One batch a round trip: the smallest count still gives a figure.
out=$(timeout 30 "$LB" line --cpu 1 --peer-cpu 0 --count 1 2>&1); rc=$?
if [ $rc = 0 ] && grep -q "round_trips=11 " <<<"$out"; then
	ok "--count 1 still times one round trip per batch"
else
	not_ok "--count 1 (exit $rc, want 0 and round_trips=11): $out"
fi
[ $failed = 0 ]
