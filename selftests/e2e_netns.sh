#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# e2e_netns.sh - softee end to end across network namespaces: softee-box
# daemons and softee-guest hosts (a micro-VM guest with the poller inside)
# on one Ethernet segment (a bridge; selftests/lib/segment.sh):
#
#   the guest reads the test endpoint's IDs through the BARs its host
#   assigned, writes and reads registers and device memory, DMAs 1 MiB each
#   way with both CRCs checked, takes the MSI in its IDT, and DMA aimed
#   outside its RAM is refused with the rest of RAM unchanged; on the socket
#   backend and with the host on DPDK (af_packet PMD), each also with the
#   host's link split into TX and RX threads (--layout split); the same under 5%
#   loss with reordering each way; the box killed in the middle of a DMA
#   (all ones within the timeout, the device down) and started again (the
#   device configured again and working); two hosts, the box's group moved
#   from host A's to host B's with softeectl (the device leaves A and works
#   on B); a box of another group on the segment is never seen.
#
#   selftests/e2e_netns.sh [--kmod] [--keep]
#
# --kmod traps with softee.ko (run it in the test VM: selftests/tests.list).
# TAP on stdout; exits 1 on a failure, 4 (skip, with the reason) where
# namespaces, veth, a bridge or /dev/kvm are missing.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=selftests/lib/segment.sh
. selftests/lib/segment.sh
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh

bdir=${SOFTEE_BUILD_DIR:-build}
BOX=$bdir/softee-box
GUEST=$bdir/softee-guest
CTL=$bdir/softeectl
kmod=
keep=
while [ $# -gt 0 ]; do
	case $1 in
	--kmod) kmod=--kmod; shift ;;
	--keep) keep=1; shift ;;
	*) echo "usage: e2e_netns.sh [--kmod] [--keep]" >&2; exit 2 ;;
	esac
done

n=0
failed=0
check() {
	local st=$1 name=$2
	shift 2
	if [ "$st" = 0 ]; then ok "$name"; else not_ok "$name"; show "$@"; fi
}

for f in "$BOX" "$GUEST" "$CTL"; do
	[ -x "$f" ] || { echo "1..0 # SKIP $f is not built (make user)"; exit 4; }
done
[ -w /dev/kvm ] || { echo "1..0 # SKIP no /dev/kvm"; exit 4; }
if [ -n "$kmod" ] && [ ! -w /dev/softee ]; then
	echo "1..0 # SKIP no /dev/softee: --kmod runs in the test VM with softee.ko loaded"
	exit 4
fi
seg_check || { echo "1..0 # SKIP $SEG_WHY"; exit 4; }

dir=$(mktemp -d /tmp/softee-e2e.XXXXXX)
cleanup() {
	seg_down
	rm -rf /var/run/dpdk/softee-$$-* 2>/dev/null
	if [ -n "$keep" ]; then echo "# logs kept in $dir"; else rm -rf "$dir"; fi
}
# seg_check said a segment works here: a setup that fails now is a failure.
seg_up box box3 box4 ha hb || { echo "Bail out! cannot set up the namespaces and the bridge"; exit 1; }
trap 'cleanup' EXIT

# Short heartbeats: a lost box is seen in 4 x 50 ms.
HB=(--hb-ms 50 --hb-miss 4)
# Under TCG (the test VM) everything is slower: give reads a second.
tmo=()
[ -n "$kmod" ] && tmo=(--timeout-us 1000000)

declare -A BOXPID
# box_start NAME NODE GROUP [ARGS...]
box_start() {
	local name=$1 node=$2 group=$3
	shift 3
	seg_run "$node" "$dir/$name.log" "$BOX" --dev "socket:${SEG_IF[$node]}" --group "$group" \
		--endpoint test --ctl "$dir/$name.sock" "${HB[@]}" --log-level info "$@"
	BOXPID[$name]=$SEG_LAST
	echo "$SEG_LAST" > "$dir/$name.pid"
	seg_wait_line "$dir/$name.log" 'ready: group' 10 "$SEG_LAST"
}
# guest NODE LOG [EAL-ARGS... --] ARGS...: softee-guest in NODE's namespace (foreground)
guest() {
	local node=$1 log=$2 eal=() a
	shift 2
	for a in "$@"; do
		if [ "$a" = -- ]; then
			while [ "$1" != -- ]; do eal+=("$1"); shift; done
			eal+=(--)
			shift
			break
		fi
	done
	ip netns exec "${SEG_NS[$node]}" "$GUEST" "${eal[@]}" $kmod "${HB[@]}" "${tmo[@]}" "$@" \
		> "$log" 2>&1
}
echo "TAP version 13"
echo "1..11"

# Under --kmod the hosts run in the crawling test VM: the box gives them 40
# periods (no case here needs the box to notice a host lost; hosts that
# end say so).
box_hb=()
[ -n "$kmod" ] && box_hb=(--hb-miss 40)
box_start box box 1 "${box_hb[@]}" || { echo "Bail out! softee-box did not start"; show "$dir/box.log"; exit 1; }
# A box of another group on the same segment: nobody in group 1 or 2 may see it.
box_start box3 box3 3 || { echo "Bail out! the second softee-box did not start"; exit 1; }

# 1: the whole test program over the socket backend
guest ha "$dir/t1.log" --link "socket:${SEG_IF[ha]}" --group 1 -q test
st=$?
check "$st" "test endpoint end to end (socket): IDs, registers, 1 MiB DMA each way with CRCs, MSI, DMA outside RAM refused" "$dir/t1.log" "$dir/box.log"
grep -q '^softee-guest: devices: 1$' "$dir/t1.log"
check $? "a box of another group on the segment is never configured" "$dir/t1.log"

# 2: the host on DPDK (af_packet PMD on the same veth), the box on the socket
guest ha "$dir/t2.log" -l 0 --no-huge -m 256 --no-pci --file-prefix "softee-$$-ha" \
	--log-level=warning -- --link "dpdk:net_af_packet0,iface=${SEG_IF[ha]}" --group 1 -q test
check $? "the same with the host on DPDK (net_af_packet)" "$dir/t2.log" "$dir/box.log"
# The poller's thread is no EAL lcore: it takes an lcore id of its own, so
# that its mbufs come from the pool's per-lcore cache (softee_lcore_enter).
grep -q '^softee-guest: poller thread: lcore [0-9]' "$dir/t2.log" &&
	grep -q '^softee-guest: poller thread: no lcore of its own' "$dir/t1.log"
check $? "the poller's thread takes a DPDK lcore id on DPDK, none on the socket backend" "$dir/t2.log" "$dir/t1.log"
# The af_packet PMD kicks the kernel once a send burst: the poller keeps its
# DMA completions in one burst there (Documentation/poller.rst, "DMA").
grep -q '^softee-guest: link: .*blocking receive no, a system call per send burst yes$' "$dir/t2.log" &&
	grep -q '^softee-guest: link: .*blocking receive yes, a system call per send burst no$' "$dir/t1.log"
check $? "the links say how they receive and what a send burst costs (af_packet PMD: a system call)" "$dir/t2.log" "$dir/t1.log"

# 2b: the host's link split into a TX and an RX thread (--layout split): on the
# socket backend with both threads floating, and on DPDK with both loops on
# EAL lcores (two lcores on one CPU: any machine has one).  Under --kmod, in
# the test VM (single-threaded TCG: its two vCPUs on one host thread), a
# read behind a 1 MiB DMA outlived the 1 s timeout with the two extra
# threads; with 5 s six runs in a row passed (Documentation/poller.rst,
# "The split layout").  There, too, the poller's RX thread once saw no
# heartbeat for 4 x 50 ms while the VM crawled, and the box was lost in the
# middle of the test: these two cases test the layout, not liveness (4 and
# 5 below do), so the host gives the box 40 periods under --kmod.
split_args=()
[ -n "$kmod" ] && split_args=(--timeout-us 5000000 --hb-miss 40)
guest ha "$dir/t2s.log" --link "socket:${SEG_IF[ha]}" --group 1 -q --layout split "${split_args[@]}" test
st=$?
[ "$st" = 0 ] && grep -q '^softee-guest: split layout: TX on CPU -1, RX on CPU -1' "$dir/t2s.log"
check $? "the same with --layout split (socket; TX and RX threads)" "$dir/t2s.log" "$dir/box.log"
lc=$(( $(nproc) > 1 ? 1 : 0 ))
guest ha "$dir/t2l.log" --lcores "0@0,1@$lc,2@$lc" --no-huge -m 256 --no-pci \
	--file-prefix "softee-$$-hal" --log-level=warning -- \
	--link "dpdk:net_af_packet0,iface=${SEG_IF[ha]}" --group 1 -q --layout split:1,2 "${split_args[@]}" test
st=$?
[ "$st" = 0 ] && grep -q '^softee-guest: split layout: TX on lcore 1, RX on lcore 2' "$dir/t2l.log"
check $? "the same with --layout split:1,2 (DPDK; TX and RX on EAL lcores)" "$dir/t2l.log" "$dir/box.log"

# 3: 5% loss and 2% reordering, each way, on a box of its own
FAULT=drop=50000,reorder=20000
box_start box4 box4 4 --fault "$FAULT" --seed 7 --cpl-timeout-ms 2000 || { echo "Bail out! the lossy box did not start"; exit 1; }
guest ha "$dir/t3.log" --link "socket:${SEG_IF[ha]}" --group 4 --fault "$FAULT" --seed 11 \
	--timeout-us 2000000 test
check $? "the same under 5% loss with 2% reordering each way" "$dir/t3.log" "$dir/box4.log"
kill "${BOXPID[box4]}" 2>/dev/null

# 4: the box killed in the middle of a DMA, then started again
restart="ip netns exec ${SEG_NS[box]} $BOX --dev socket:${SEG_IF[box]} --group 1 --endpoint test \
--ctl $dir/box.sock ${HB[*]} ${box_hb[*]} --log-level info > $dir/box-again.log 2>&1 & echo \$! > $dir/box.pid"
guest ha "$dir/t4.log" --link "socket:${SEG_IF[ha]}" --group 1 -q lost \
	--on-dma-running "kill -9 \$(cat $dir/box.pid)" --on-lost "$restart"
check $? "the box killed mid-DMA: all ones within the timeout, device down; started again: configured and working" \
	"$dir/t4.log" "$dir/box-again.log"
BOXPID[box]=$(cat "$dir/box.pid")

# 5: two hosts; the box moves from A's group to B's
seg_run ha "$dir/t5a.log" "$GUEST" $kmod "${HB[@]}" "${tmo[@]}" --link "socket:${SEG_IF[ha]}" \
	--group 1 -q --ctl "$dir/ha.sock" --hold test
pa=$SEG_LAST
seg_wait_line "$dir/t5a.log" 'holding' 30 "$pa"
check $? "host A (group 1) uses the device" "$dir/t5a.log"
seg_run hb "$dir/t5b.log" "$GUEST" $kmod "${HB[@]}" "${tmo[@]}" --link "socket:${SEG_IF[hb]}" \
	--group 2 -q --wait-ms 20000 test
pb=$SEG_LAST
sleep 0.3
"$CTL" --box "$dir/box.sock" box set-group 2 > "$dir/setgroup.log" 2>&1
sg=$?
wait "$pb"
stb=$?
down=1
for ((i = 0; i < 100; i++)); do
	if "$CTL" --poller "$dir/ha.sock" --json devices > "$dir/ha-devices.json" 2>&1 &&
	   grep -q '"state":"down"' "$dir/ha-devices.json"; then
		down=0
		break
	fi
	sleep 0.05
done
[ "$sg" = 0 ] && [ "$stb" = 0 ] && [ "$down" = 0 ] && grep -q '^softee-guest: devices: 1$' "$dir/t5b.log"
check $? "softeectl box set-group 2: the device leaves host A (down) and works on host B" \
	"$dir/setgroup.log" "$dir/t5b.log" "$dir/ha-devices.json" "$dir/box-again.log"
kill "$pa" 2>/dev/null
wait "$pa" 2>/dev/null

[ "$failed" = 0 ]
