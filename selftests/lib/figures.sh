# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# selftests/lib/figures.sh - the arithmetic of the benchmarks.  Source it
# from bash.
#
#   median < FIGURES          the median of one figure a line (status 1: none)
#   div A B                   A / B to 4 places, or nothing if either is
#                             missing or B is 0
#   fig_note DIR NAME ROUND VALUE
#                             keep a round's figure: "ROUND VALUE" appended to
#                             DIR/NAME (nothing if VALUE is empty)
#   fig_median DIR NAME       the median over the rounds of DIR/NAME
#                             (nothing, status 1, if it has no figure)
#   round_ratio DIR A B METRIC
#                             the median over rounds of A's figure over B's
#                             in the same round, from DIR/A.METRIC and
#                             DIR/B.METRIC; nothing if either has no figure
#   verdict_min RATIO TARGET  met, MISSED, or "no figure"
#
# Why ratios of pairs: this machine has spells, a minute or two long, in
# which every run moves half as much (both cores busy in user space, no
# syscalls, no stalls: its neighbours'; a cache line between the two CPUs
# takes several times as long then, softee-linkbench line).  A ratio of two
# medians taken over rounds that met different spells measures the spells;
# two runs seconds apart nearly always meet the same one.
median() { sort -g | awk '{v[NR]=$1} END {if (NR == 0) exit 1; print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print ""; else printf "%.4f\n", a / b }'; }
fig_note() { [ -n "$4" ] && echo "$3 $4" >> "$1/$2"; return 0; }
fig_median() { [ -s "$1/$2" ] && awk '{ print $2 }' "$1/$2" | median; }
round_ratio() {
	[ -s "$1/$2.$4" ] && [ -s "$1/$3.$4" ] || return 0
	join <(sort "$1/$2.$4") <(sort "$1/$3.$4") |
		awk '$3 > 0 { printf "%.4f\n", $2 / $3 }' | median
}
verdict_min() { awk -v r="$1" -v t="$2" 'BEGIN { if (r == "") print "no figure"; else print (r >= t) ? "met" : "MISSED" }'; }
