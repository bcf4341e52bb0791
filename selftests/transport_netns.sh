#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# transport_netns.sh - the links under the transport, between two network
# namespaces joined by a veth pair (made here, unique names, removed at
# exit), on both backends: the AF_PACKET socket and DPDK's af_packet PMD on
# the same veth; DPDK's memif between two processes too.
#
#  raw frames (no transport): each backend carries frames of the smallest
#  and the largest size intact and in order both ways, the two backends
#  interoperate, an 802.1Q tag survives; the system calls per frame, which
#  strace counts: about one on each end of the socket backend, one per
#  burst sent and none per frame received on DPDK's af_packet PMD, none on
#  either end of memif;
#
#  the transport (softee-linkbench host/box): TLPs flow both ways, the
#  heartbeats learn the peer, a peer that stops is declared lost within K
#  periods, a heartbeat of another group is ignored, and a group change
#  ends the session (the box says it leaves); a pair on --ethertype 0x88b6
#  carries TLPs, and one whose ends differ in EtherType never meets.
#
# TAP on stdout; exits 1 on a failure, 4 (skip, with the reason) when
# network namespaces or veth are not available.
#
#   selftests/transport_netns.sh [--only raw|xport] [--keep]
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=selftests/lib/netns.sh
. selftests/lib/netns.sh
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh

only=
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$2; shift 2 ;;
	--keep) LB_KEEP=1; shift ;;
	*) echo "usage: transport_netns.sh [--only raw|xport] [--keep]" >&2; exit 2 ;;
	esac
done

n=0
failed=0
# check COND-STATUS NAME LOGS...: ok, or not ok with the ends' logs.
check() {
	local st=$1 name=$2 l
	shift 2
	if [ "$st" = 0 ]; then
		ok "$name"
	else
		not_ok "$name"
		for l in "$@"; do
			echo "#   $l exited with ${LB_RC[$l]:-?}"
			lb_log "$l"
		done
	fi
}

netns_require
echo "TAP version 13"
# netns_require said namespaces work here: a setup that fails now is a failure.
netns_up || { echo "Bail out! cannot set up the namespaces"; exit 1; }
# A larger PMD ring: a polling receiver that loses its core for a while
# (two cores, shared) must not drop the test's frames.
LB_AFP_ARGS=,framecnt=4096

# Can DPDK's EAL start here at all (--no-huge, no PCI)?  If not, its
# tests skip with the EAL's reason.
dpdk_why=${SOFTEE_TEST_NO_DPDK:+SOFTEE_TEST_NO_DPDK is set}
if [ -z "$dpdk_why" ] && ! out=$("$LB_BIN" -l 0 --no-huge -m 64 --no-pci --file-prefix "softee-$$-probe" \
		--log-level=error -- stall --duration-ms 1 2>&1); then
	# Only the EAL's own refusal is a missing requirement; anything else
	# (softee-linkbench crashing, an option it no longer takes) is a failure.
	if grep -q 'rte_eal_init: err=' <<<"$out"; then
		dpdk_why="DPDK's EAL does not start here: $(tail -1 <<<"$out")"
	else
		echo "Bail out! the DPDK probe (softee-linkbench ... stall) failed: $(tail -1 <<<"$out")"
		exit 1
	fi
fi
rm -rf /var/run/dpdk/"softee-$$-probe"

# ---- raw frames --------------------------------------------------------------

# raw_pass NAME FROM-WHERE FROM-BACKEND TO-WHERE TO-BACKEND SIZE COUNT [ARGS...]:
# send COUNT frames of SIZE; the receiver must get every one, intact, in order.
raw_pass() {
	local name=$1 fw=$2 fb=$3 tw=$4 tb=$5 size=$6 count=$7 st=0 got bad lost ooo
	shift 7
	if [ -n "$dpdk_why" ] && [[ "$fb $tb" != "socket socket" ]]; then
		skip "$name" "$dpdk_why"
		return
	fi
	local send=(raw-send --count "$count" --size "$size" --burst 8 --gap-us 300 "$@")
	# A memif client cannot start before its server, and a memif server is
	# not ready before its client: the server first, then the client.
	case $tb in
	memif-client) lb_start tx "$fw" "$fb" 0 "${send[@]}" ;;
	esac
	lb_start rx "$tw" "$tb" 1 raw-recv --count "$count" --timeout-ms 1500 --wait-ms 15000 "$@"
	case $tb in
	memif-server) lb_start tx "$fw" "$fb" 0 "${send[@]}" ;;
	esac
	if ! lb_wait_line rx '^linkbench: ready' 20; then
		not_ok "$name: receiver did not come up"
		lb_log rx
		lb_kill rx
		lb_kill tx
		return
	fi
	case $tb in
	memif-*) ;;
	*) lb_start tx "$fw" "$fb" 0 "${send[@]}" ;;
	esac
	lb_wait tx 60 || st=1
	lb_wait rx 30 || st=1
	got=$(lb_result rx frames) bad=$(lb_result rx bad) lost=$(lb_result rx lost) ooo=$(lb_result rx ooo)
	[ "${got:-0}" = "$count" ] && [ "$bad" = 0 ] && [ "$lost" = 0 ] && [ "$ooo" = 0 ] || st=1
	check $st "$name ($count x $size bytes: got ${got:-none}, bad ${bad:-?}, lost ${lost:-?})" tx rx
	[ $st = 0 ] || { ip -n "$NS_A" -s link show "$IF_A"; ip -n "$NS_B" -s link show "$IF_B"; } 2>&1 | sed 's/^/#   /'
}

# sc_run FROM-WHERE FROM-BACKEND TO-WHERE TO-BACKEND COUNT: one raw-send to
# raw-recv pair, each end under strace -f -c; sets SC_TX and SC_RX (the
# system calls of every thread of each end, its whole life) and FR_TX,
# FR_RX (the frames each sent or received); 1 if an end failed.
SC_N=2000
sc_run() {
	local fw=$1 fb=$2 tw=$3 tb=$4 count=$5 st=0
	local send=(raw-send --count "$count" --size 200 --burst 8 --gap-us 0)
	# LeakSanitizer (make check-san) cannot stop the threads of a
	# process that strace already traces, and fails its exit: leaks are
	# checked in the runs without strace.
	local trace="env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -c -U calls,name -S calls -o $LB_DIR"
	rm -f "$LB_DIR"/sctx.strace "$LB_DIR"/scrx.strace
	case $tb in
	memif-client) LB_WRAP="$trace/sctx.strace" lb_start sctx "$fw" "$fb" 0 "${send[@]}" ;;
	esac
	LB_WRAP="$trace/scrx.strace" lb_start scrx "$tw" "$tb" 1 raw-recv --count "$count" \
		--timeout-ms 1000 --wait-ms 20000
	case $tb in
	memif-server) LB_WRAP="$trace/sctx.strace" lb_start sctx "$fw" "$fb" 0 "${send[@]}" ;;
	esac
	SC_TX= SC_RX= FR_TX= FR_RX=
	if ! lb_wait_line scrx '^linkbench: ready' 30; then
		lb_kill scrx
		lb_kill sctx
		return 1
	fi
	case $tb in
	memif-*) ;;
	*) LB_WRAP="$trace/sctx.strace" lb_start sctx "$fw" "$fb" 0 "${send[@]}" ;;
	esac
	lb_wait sctx 60 || st=1
	lb_wait scrx 60 || st=1
	SC_TX=$(awk '$NF == "total" { print $1 }' "$LB_DIR/sctx.strace" 2>/dev/null)
	SC_RX=$(awk '$NF == "total" { print $1 }' "$LB_DIR/scrx.strace" 2>/dev/null)
	FR_TX=$(lb_result sctx frames) FR_RX=$(lb_result scrx frames)
	[ -n "$SC_TX" ] && [ -n "$SC_RX" ] && [ -n "$FR_TX" ] && [ -n "$FR_RX" ] || st=1
	return $st
}

# sc_pass NAME FROM-WHERE FROM-BACKEND TO-WHERE TO-BACKEND TX-MIN TX-MAX
# RX-MIN RX-MAX: the system calls per frame of the sender and of the
# receiver, from a run of SC_N frames and one of 10 SC_N, each within its
# bounds (- for none).  The receiver's are per frame it received: a
# polling receiver that lost its core may miss some.
sc_pass() {
	local name=$1 fw=$2 fb=$3 tw=$4 tb=$5 txmin=$6 txmax=$7 rxmin=$8 rxmax=$9
	local st=0 s1 r1 f1 g1 tx rx
	if [ -n "$dpdk_why" ] && [ "$fb" != socket ]; then
		skip "$name" "$dpdk_why"
		return
	fi
	sc_run "$fw" "$fb" "$tw" "$tb" $SC_N || st=1
	s1=$SC_TX r1=$SC_RX f1=$FR_TX g1=$FR_RX
	[ $st = 0 ] && { sc_run "$fw" "$fb" "$tw" "$tb" $((10 * SC_N)) || st=1; }
	if [ $st = 0 ]; then
		# The receiver must have had most of the extra frames, or its
		# figure means little; the sender sent them all.
		[ "$f1" = $SC_N ] && [ "$FR_TX" = $((10 * SC_N)) ] &&
			[ $((FR_RX - g1)) -ge $((9 * SC_N / 2)) ] || st=1
	fi
	if [ $st = 0 ]; then
		tx=$(awk -v a="$s1" -v b="$SC_TX" -v n=$((FR_TX - f1)) 'BEGIN { printf "%.3f", (b - a) / n }')
		rx=$(awk -v a="$r1" -v b="$SC_RX" -v n=$((FR_RX - g1)) 'BEGIN { printf "%.3f", (b - a) / n }')
		awk -v v="$tx" -v lo="$txmin" -v hi="$txmax" -v w="$rx" -v wlo="$rxmin" -v whi="$rxmax" 'BEGIN {
			exit !((lo == "-" || v >= lo) && (hi == "-" || v < hi) &&
			       (wlo == "-" || w >= wlo) && (whi == "-" || w < whi)) }' || st=1
	fi
	check $st "$name (per frame: sender ${tx:-?}, receiver ${rx:-?}; $SC_N then $((10 * SC_N)) frames: sender ${s1:-?} then ${SC_TX:-?} system calls, receiver ${r1:-?} then ${SC_RX:-?} for ${g1:-?} then ${FR_RX:-?} frames)" sctx scrx
	if [ $st != 0 ]; then
		local e
		for e in sctx scrx; do	# the run of 10 SC_N, the most called first
			echo "#   $e's system calls:"
			sed -n '3,8s/^/#   /p' "$LB_DIR/$e.strace" 2>/dev/null
		done
	fi
}

if [ -z "$only" ] || [ "$only" = raw ]; then
	raw_pass "raw socket a->b, smallest frames" a socket b socket 60 2000
	raw_pass "raw socket b->a, largest frames" b socket a socket 1514 2000
	raw_pass "raw dpdk af_packet a->b, smallest frames" a dpdk b dpdk 60 2000
	raw_pass "raw dpdk af_packet b->a, largest frames" b dpdk a dpdk 1514 2000
	raw_pass "raw socket -> dpdk af_packet" a socket b dpdk 300 2000
	raw_pass "raw dpdk af_packet -> socket" a dpdk b socket 300 2000
	raw_pass "raw socket keeps an 802.1Q tag" a socket b socket 300 500 --vlan 7
	raw_pass "raw dpdk af_packet keeps an 802.1Q tag" a dpdk b dpdk 300 500 --vlan 7
	raw_pass "raw dpdk memif server -> client" root memif-server root memif-client 1514 2000
	raw_pass "raw dpdk memif client -> server" root memif-client root memif-server 60 2000

	# System calls per frame, counted by strace (softee's own counters
	# could only say what its socket backend does) and differentially:
	# the same pair with N and with 10N frames, the extra system calls over
	# the 9N extra frames, so that start-up (the EAL's, many thousands)
	# and exit cancel out.  No --gap-us: its nanosleep() would count.
	if ! command -v strace >/dev/null; then
		for t in socket "dpdk af_packet" "dpdk memif server -> client" "dpdk memif client -> server"; do
			skip "raw $t: system calls per frame" "no strace (make deps installs it)"
		done
	else
		sc_pass "raw socket: about one system call per frame each end" \
			a socket b socket 0.9 - 0.9 -
		sc_pass "raw dpdk af_packet: a system call per burst sent, none per frame received" \
			a dpdk b dpdk - 0.5 - 0.05
		sc_pass "raw dpdk memif server -> client: no system call per frame" \
			root memif-server root memif-client - 0.05 - 0.05
		sc_pass "raw dpdk memif client -> server: no system call per frame" \
			root memif-client root memif-server - 0.05 - 0.05
	fi
fi

# ---- the transport -------------------------------------------------------------

# xp_pair NAME BACKEND TEST HOST-ARGS -- BOX-ARGS: a host in a and a box in
# b (or both in the root namespace over memif), both waited for.
xp_pair() {
	local backend=$1 test=$2 hargs=() bargs=() hb bb
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do hargs+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	bargs=("$@")
	case $backend in
	memif) hb=memif-client bb=memif-server hw=root bw=root ;;
	*) hb=$backend bb=$backend hw=a bw=b ;;
	esac
	lb_start box "$bw" "$bb" 1 box --test "$test" "${bargs[@]}"
	lb_start host "$hw" "$hb" 0 host --test "$test" "${hargs[@]}"
}

# wall_of NAME EVENT: wall_ns of NAME's first such event line.
wall_of() {
	sed -n "s/^linkbench: event $2 .*wall_ns=\([0-9]*\).*/\1/p" "$LB_DIR/$1.log" | head -1
}
field_of() {	# field_of NAME EVENT KEY
	sed -n "s/^linkbench: event $2 .*\b$3=\([^ ]*\).*/\1/p" "$LB_DIR/$1.log" | head -1
}
ready_mac() {
	sed -n 's/^linkbench: ready .*mac=\([^ ]*\).*/\1/p' "$LB_DIR/$1.log" | head -1
}

xport_tests() {
	local b=$1 st got bad ooo hmac bmac t_kill t_down dt hb=100 k=3
	local count=20000
	# The data tests check delivery, not liveness: a loaded machine that
	# holds an end off its core for a few periods must not end them.
	local lax=(--hb-miss 20)

	# TLPs flow host -> box and box -> host, each once, in order, intact.
	xp_pair "$b" tx --count $count "${lax[@]}" -- --count $count "${lax[@]}"
	st=0; lb_wait host 120 || st=1; lb_wait box 30 || st=1
	got=$(lb_result box rx_tlps) bad=$(lb_result box rx_bad) ooo=$(lb_result box rx_ooo)
	[ "$got" = $count ] && [ "$bad" = 0 ] && [ "$ooo" = 0 ] || st=1
	check $st "transport $b: $count MWr host->box delivered once, in order ($got, bad ${bad:-?}, out of order ${ooo:-?}; $(lb_result host tlps_per_s) TLPs/s)" host box

	xp_pair "$b" rx --count $count "${lax[@]}" -- --count $count "${lax[@]}"
	st=0; lb_wait box 120 || st=1; lb_wait host 30 || st=1
	got=$(lb_result host rx_tlps) bad=$(lb_result host rx_bad) ooo=$(lb_result host rx_ooo)
	[ "$got" = $count ] && [ "$bad" = 0 ] && [ "$ooo" = 0 ] || st=1
	check $st "transport $b: $count MWr box->host delivered once, in order ($got, bad ${bad:-?}, out of order ${ooo:-?}; $(lb_result box tlps_per_s) TLPs/s)" host box

	# The same through the fault injector under both ends.
	local f=drop=20000,dup=5000,corrupt=5000,reorder=10000
	xp_pair "$b" tx --count 5000 --fault $f --seed 7 "${lax[@]}" -- --count 5000 --fault $f --seed 7 "${lax[@]}"
	st=0; lb_wait host 120 || st=1; lb_wait box 30 || st=1
	got=$(lb_result box rx_tlps) bad=$(lb_result box rx_bad) ooo=$(lb_result box rx_ooo)
	[ "$got" = 5000 ] && [ "$bad" = 0 ] && [ "$ooo" = 0 ] || st=1
	check $st "transport $b: through 2% drop, 0.5% dup, 0.5% corrupt, 1% reorder both ways: 5000 MWr once, in order ($got; $(lb_result host tx_retrans) frames sent again, $(lb_result box rx_crc_errors) CRC errors caught)" host box

	xp_pair "$b" rtt --count 300 --size 4 "${lax[@]}" -- --size 4 "${lax[@]}"
	st=0; lb_wait host 60 || st=1; lb_wait box 30 || st=1
	[ "$(lb_result host samples)" = 300 ] && [ "$(lb_result host lost)" = 0 ] || st=1
	check $st "transport $b: 300 MRd answered by CplD (p50 $(lb_result host rtt_p50_us) us)" host box

	[ "$b" = memif ] && return	# liveness: the same code; the veth links test it

	# Heartbeats learn the peer; a peer that stops is lost within K periods.
	xp_pair "$b" hb --duration-ms 20000 --hb-ms $hb --hb-miss $k -- --duration-ms 20000 --hb-ms $hb --hb-miss $k
	st=0
	lb_wait_line host '^linkbench: event peer_up' 15 && lb_wait_line box '^linkbench: event peer_up' 15 || st=1
	hmac=$(ready_mac host) bmac=$(ready_mac box)
	[ -n "$hmac" ] && [ "$(field_of host peer_up mac)" = "$bmac" ] &&
		[ "$(field_of box peer_up mac)" = "$hmac" ] && [ "$(field_of host peer_up role)" = box ] || st=1
	check $st "transport $b: heartbeats learn the peer (host sees box $bmac, box sees host $hmac)" host box
	sleep 0.35
	t_kill=$(date +%s%N)
	lb_kill box
	st=0
	lb_wait_line host '^linkbench: event peer_down' 10 || st=1
	t_down=$(wall_of host peer_down)
	dt=$(( (${t_down:-0} - t_kill) / 1000000 ))
	# The host's own longest stall off its core: a late verdict it explains
	# is the machine's, not the liveness code's.
	kill -TERM "${LB_PID[host]}" 2>/dev/null
	lb_wait host 10
	local gap_us
	gap_us=$(sed -n 's/^linkbench: stats .*poll_gap_max_us=\([0-9]*\).*/\1/p' "$LB_DIR/host.log" | tail -1)
	local stall_ms=$(( ${gap_us:-0} / 1000 ))	# (no stats line: the host died, st says so)
	[ "$st" = 0 ] && [ "$(field_of host peer_down reason)" = timeout ] &&
		[ "$dt" -ge $(((k - 1) * hb - 20)) ] || st=1
	local name="transport $b: a peer that stops is lost within $k periods of $hb ms, not before $((k - 1)) (after ${dt} ms, reason $(field_of host peer_down reason))"
	if [ "$st" = 0 ] && [ "$dt" -gt $((k * hb + 50)) ]; then
		if [ "$stall_ms" -ge $((dt - k * hb - 50)) ]; then
			skip "$name" "the host was off its core for $stall_ms ms: the machine is too loaded to time this"
		else
			check 1 "$name" host
		fi
	else
		check $st "$name" host
	fi

	# A heartbeat of another group is ignored.
	xp_pair "$b" hb --duration-ms 2000 --group 1 -- --duration-ms 2000 --group 2
	st=0; lb_wait host 30 || st=1; lb_wait box 30 || st=1
	! grep -q '^linkbench: event peer_up' "$LB_DIR/host.log" &&
		! grep -q '^linkbench: event peer_up' "$LB_DIR/box.log" &&
		[ "$(lb_result host hb_other_group)" -ge 3 ] && [ "$(lb_result box hb_other_group)" -ge 3 ] || st=1
	check $st "transport $b: heartbeats of another group are ignored (host ignored $(lb_result host hb_other_group), box $(lb_result box hb_other_group))" host box

	# A group change ends the session: the host's sends then fail, and the
	# box, now in group 2, is not learnt again.
	xp_pair "$b" hb --duration-ms 3000 --group 1 -- --duration-ms 3000 --group 1 --new-group 2 --group-change-ms 700
	st=0; lb_wait host 30 || st=1; lb_wait box 30 || st=1
	local ups downs t_up t_dn t_set reason
	ups=$(grep -c '^linkbench: event peer_up' "$LB_DIR/host.log")
	downs=$(grep -c '^linkbench: event peer_down' "$LB_DIR/host.log")
	reason=$(field_of host peer_down reason)
	t_set=$(wall_of box set_group) t_dn=$(wall_of host peer_down)
	# as above: the host's own longest stall off its core is the machine's
	local gap2_us
	gap2_us=$(sed -n 's/^linkbench: stats .*poll_gap_max_us=\([0-9]*\).*/\1/p' "$LB_DIR/host.log" | tail -1)
	# The box said it leaves (a LEAVE reset): the session ended on the
	# change, not on a timeout K periods after it.
	[ "$ups" = 1 ] && [ "$downs" = 1 ] && [ "$reason" = leave ] && [ -n "$t_set" ] && [ -n "$t_dn" ] &&
		[ "$t_dn" -ge "$t_set" ] &&
		[ $(( (t_dn - t_set) / 1000000 )) -le $((k * hb + 50 + ${gap2_us:-0} / 1000)) ] &&
		grep -q '^linkbench: event group_changed group=2' "$LB_DIR/box.log" &&
		[ "$(lb_result box group)" = 2 ] &&
		[ "$(lb_result host mwr_ok)" -gt 0 ] && [ "$(lb_result host mwr_notconn)" -gt 0 ] &&
		[ "$(lb_result box rx_ooo)" = 0 ] && [ "$(lb_result box rx_bad)" = 0 ] || st=1
	check $st "transport $b: a group change ends the session (host: $ups up, $downs down, reason ${reason:-none}, $(( (${t_dn:-0} - ${t_set:-0}) / 1000000 )) ms after the change; $(lb_result host mwr_ok) MWr before, $(lb_result host mwr_notconn) refused after)" host box
}

# --ethertype: a pair on 0x88b6 carries TLPs; a pair whose box keeps the
# default 0x88B5 never meets (the socket's kernel filter lets none of the
# other's frames up; on DPDK the transport counts them as not ours).
ethertype_tests() {
	local b=$1 st got bad
	xp_pair "$b" tx --count 2000 --ethertype 0x88b6 --hb-miss 20 -- --count 2000 --ethertype 0x88b6 --hb-miss 20
	st=0; lb_wait host 60 || st=1; lb_wait box 30 || st=1
	got=$(lb_result box rx_tlps) bad=$(lb_result box rx_bad)
	[ "$got" = 2000 ] && [ "$bad" = 0 ] || st=1
	check $st "transport $b: both ends on --ethertype 0x88b6: 2000 MWr host->box ($got, bad ${bad:-?})" host box

	xp_pair "$b" hb --duration-ms 1500 --ethertype 0x88b6 -- --duration-ms 1500
	st=0; lb_wait host 30 || st=1; lb_wait box 30 || st=1
	! grep -q '^linkbench: event peer_up' "$LB_DIR/host.log" &&
		! grep -q '^linkbench: event peer_up' "$LB_DIR/box.log" &&
		[ "$(lb_result host hb_tx)" -ge 5 ] && [ "$(lb_result box hb_tx)" -ge 5 ] &&
		[ "$(lb_result host hb_rx)" = 0 ] && [ "$(lb_result box hb_rx)" = 0 ] || st=1
	if [ "$b" = dpdk ]; then
		[ "$(lb_result box rx_not_ours)" -ge 5 ] || st=1
	fi
	check $st "transport $b: host on 0x88b6, box on 0x88B5: they never meet (heartbeats sent $(lb_result host hb_tx) and $(lb_result box hb_tx), heard $(lb_result host hb_rx) and $(lb_result box hb_rx); box counted $(lb_result box rx_not_ours) frames not ours)" host box
}

if [ -z "$only" ] || [ "$only" = xport ]; then
	xport_tests socket
	ethertype_tests socket
	if [ -n "$dpdk_why" ]; then
		skip "transport over dpdk (af_packet and memif)" "$dpdk_why"
	else
		xport_tests dpdk
		ethertype_tests dpdk
		xport_tests memif
	fi
fi

echo "1..$n"
exit $failed
