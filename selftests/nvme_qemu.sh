#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# nvme_qemu.sh - a remote NVMe SSD for an unmodified QEMU guest.  Runs in the
# test VM with softee.ko loaded, multi-threaded TCG (vm-nested in
# selftests/tests.list; make check-nested runs only those).
#
# A softee-box with the NVMe endpoint (a file) in one network namespace;
# Debian's QEMU/KVM booting Debian's kernel (an L2 guest, selftests/vm/l2-run)
# started paused; `softeectl attach` from the other namespace gives it the
# box's controller at 00:10.0 (config cycles trapped by softee.ko, guest RAM
# from QEMU's memfd), then QEMU resumes, so the firmware's first scan sees it.
# In the guest, parts nobody here wrote:
#
#   1 lspci lists an NVMe controller at 00:10.0, the stock nvme driver binds,
#     `nvme list` shows the controller and its namespace;
#   2 fio --verify=crc32c writes and reads /dev/nvme0n1;
#   3 a filesystem is made, mounted, written, unmounted, remounted, checked;
#   4 the same under 2% loss each way;
#   5 the box killed during I/O: the guest's driver times out and reports
#     errors, and the guest still shuts down;
#   6 a second run after the box returns works.
#
#   selftests/nvme_qemu.sh [--keep] [--only N]
#
# TAP on stdout; exits 1 on a failure, 4 (skip with the reason) without
# /dev/softee, KVM in this machine, QEMU, or network namespaces.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=selftests/lib/segment.sh
. selftests/lib/segment.sh
# shellcheck source=selftests/lib/nested.sh
. selftests/lib/nested.sh
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh

bdir=${SOFTEE_BUILD_DIR:-build}
BOX=$bdir/softee-box
CTL=$bdir/softeectl
L2RUN=selftests/vm/l2-run
keep= only=
while [ $# -gt 0 ]; do
	case $1 in
	--keep) keep=1; shift ;;
	--only) only=${2:-}; shift 2 ;;
	*) echo "usage: nvme_qemu.sh [--keep] [--only N]" >&2; exit 2 ;;
	esac
done

[ -w /dev/softee ] || { echo "1..0 # SKIP no /dev/softee: runs in the test VM with softee.ko"; exit 4; }
for f in "$BOX" "$CTL" "$bdir/softee-poller"; do
	[ -x "$f" ] || { echo "1..0 # SKIP $f is not built (make user)"; exit 4; }
done
seg_check || { echo "1..0 # SKIP $SEG_WHY"; exit 4; }
nested_pin

dir=$(mktemp -d /tmp/softee-nvme.XXXXXX)
cleanup() {
	seg_down
	pkill -f "softee-poller.*--slot" 2>/dev/null
	if [ -n "$keep" ]; then echo "# logs kept in $dir"; else rm -rf "$dir"; fi
}
# seg_check said a segment works here: a setup that fails now is a failure.
seg_up box host || { echo "Bail out! cannot set up the namespaces"; exit 1; }
trap 'cleanup' EXIT

n=0 failed=0
SHOW_LINES=${SHOW_LINES:-30}
check() {
	local st=$1 name=$2
	shift 2
	if [ "$st" = 0 ]; then ok "$name"; else not_ok "$name"; show "$@"; fi
}
want() { [ -z "$only" ] || [[ " $only " == *" $1 "* ]]; }

DISK=$dir/disk.img
truncate -s 512M "$DISK"
# box_start LOG [ARGS...]
box_start() {
	local log=$1
	shift
	seg_run box "$log" "$BOX" --dev "socket:${SEG_IF[box]}" --group 7 \
		--endpoint "nvme,file=$DISK" --ctl "$dir/box.sock" --log-level info --hb-miss 100 "$@"
	BOXPID=$SEG_LAST
	seg_wait_line "$log" 'ready: group' 20 "$BOXPID"
}
# l2 NAME 'GUEST COMMAND' [POLLER-ARGS...] [-- L2RUN-ARGS]: one guest boot with the device
# attached; its output in $dir/NAME.log, the poller's in $dir/NAME.poller.log.
l2() {
	local name=$1 cmd=$2 pargs=() largs=() a attach
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pargs+=(--poller-arg "$1"); shift; done
	[ $# -gt 0 ] && shift
	largs=("$@")
	attach="ip netns exec ${SEG_NS[host]} $CTL attach --pid \$L2_QEMU_PID --slot 00:10.0"
	# 30 s of heartbeats: the box, the poller and L2 share one CPU (nested_pin);
	# 10 s was once not enough (both sides declared the other lost).
	attach+=" --link socket:${SEG_IF[host]} --group 7 --wait-ms 60000 --poller-arg --hb-miss=300"
	for a in "${pargs[@]}"; do attach+=" $a"; done
	L2_BOOT_TIMEOUT=300 "$L2RUN" --timeout 900 --cpus 1 --on-paused "$attach" "${largs[@]}" --cmd "$cmd" \
		> "$dir/$name.log" 2>&1
	local st=$?
	cp /run/softee/poller-*.log "$dir/$name.poller.log" 2>/dev/null
	pkill -f "softee-poller.*--slot" 2>/dev/null
	rm -f /run/softee/poller-*
	return $st
}

echo "TAP version 13"
echo "1..6"
box_start "$dir/box.log" || { echo "Bail out! softee-box did not start"; show "$dir/box.log"; exit 1; }

# The guest's checks: each prints "GUEST-OK what" or "GUEST-FAIL what".
# The driver's probe may still run when the command starts (slowly, on the one
# pinned CPU of the nested VM): wait up to 60 s for the disk, and never let fio
# create a regular file of that name when it is missing (check 5 once did).
G_WAIT='for i in $(seq 300); do [ -b /dev/nvme0n1 ] && break; sleep 0.2; done
[ -b /dev/nvme0n1 ] && echo GUEST-OK disk || echo GUEST-FAIL disk'
G_ENUM="$G_WAIT"'
lspci -nn -s 00:10.0 | tee /dev/stderr | grep -q "Non-Volatile memory controller \[0108\]" &&
  echo GUEST-OK lspci || echo GUEST-FAIL lspci
readlink /sys/bus/pci/devices/0000:00:10.0/driver | grep -q "/nvme$" && echo GUEST-OK driver || echo GUEST-FAIL driver
nvme list | tee /dev/stderr | grep -q "/dev/nvme0n1" && echo GUEST-OK nvme-list || echo GUEST-FAIL nvme-list'
G_FIO='fio --name=verify --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --iodepth=8 \
  --rw=randwrite --bs=4k --size=32M --verify=crc32c --do_verify=1 --verify_fatal=1 \
  --output=/tmp/fio.txt && echo GUEST-OK fio-verify || { cat /tmp/fio.txt; echo GUEST-FAIL fio-verify; }'
G_FS='mkfs.ext4 -q -F /dev/nvme0n1 && mkdir -p /tmp/m && mount /dev/nvme0n1 /tmp/m &&
  dd if=/dev/urandom of=/tmp/m/f bs=1M count=8 status=none && sha=$(sha256sum < /tmp/m/f) &&
  umount /tmp/m && mount /dev/nvme0n1 /tmp/m && [ "$(sha256sum < /tmp/m/f)" = "$sha" ] &&
  umount /tmp/m && fsck.ext4 -fn /dev/nvme0n1 >/dev/null && echo GUEST-OK fs || echo GUEST-FAIL fs'
guest_ok() { # LOG WHAT...: every WHAT reported OK
	local l=$1 w
	shift
	for w in "$@"; do grep -q "GUEST-OK $w" "$l" || return 1; done
}

if want 1 || want 2 || want 3; then
	l2 t1 "$G_ENUM; $G_FIO; $G_FS"
	st=$?
	guest_ok "$dir/t1.log" lspci driver nvme-list && [ "$st" = 0 ]
	check $? "the guest's lspci, stock nvme driver and nvme list see the remote controller at 00:10.0" \
		"$dir/t1.log" "$dir/t1.poller.log" "$dir/box.log"
	guest_ok "$dir/t1.log" fio-verify
	check $? "fio --verify=crc32c writes and reads /dev/nvme0n1" "$dir/t1.log"
	guest_ok "$dir/t1.log" fs
	check $? "ext4 made, mounted, written, unmounted, remounted and checked" "$dir/t1.log"
fi

if want 4; then
	# 2% loss each way: the box's side and the host's.
	kill "$BOXPID" 2>/dev/null; wait "$BOXPID" 2>/dev/null
	box_start "$dir/box-loss.log" --fault drop=20000 --seed 5 --cpl-timeout-ms 2000 ||
		{ echo "Bail out! the lossy box did not start"; exit 1; }
	l2 t4 "$G_ENUM; $G_FIO" --fault=drop=20000
	st=$?
	guest_ok "$dir/t4.log" driver fio-verify && [ "$st" = 0 ]
	check $? "the same under 2% loss each way (fio --verify=crc32c)" "$dir/t4.log" \
		"$dir/t4.poller.log" "$dir/box-loss.log"
	kill "$BOXPID" 2>/dev/null; wait "$BOXPID" 2>/dev/null
	box_start "$dir/box.log" || { echo "Bail out! softee-box did not come back"; exit 1; }
fi

if want 5 || want 6; then
	# The box killed while fio runs: the driver must time out and report
	# errors, and the guest must still shut down.
	G_KILL="$G_WAIT"'
	[ -b /dev/nvme0n1 ] && (fio --name=w --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --iodepth=4 \
	  --rw=randwrite --bs=4k --size=64M --time_based --runtime=60 --output=/tmp/fio.txt; \
	  echo "fio-exit $?" > /tmp/fio.rc) &
	sleep 5
	for i in $(seq 120); do [ -e /tmp/fio.rc ] && break; sleep 1; done
	cat /tmp/fio.rc 2>/dev/null; grep -q "fio-exit 0" /tmp/fio.rc 2>/dev/null && echo GUEST-FAIL io-errors || echo GUEST-OK io-errors
	dmesg | grep -iE "nvme.*(timeout|reset|abort|error|removing)" | head -5
	dmesg | grep -qiE "nvme.*(timeout|reset|error)" && echo GUEST-OK driver-errors || echo GUEST-FAIL driver-errors'
	# Kill the box once fio's writes flow: 4 MiB read from guest memory.
	( for i in $(seq 2400); do
		b=$("$CTL" --box "$dir/box.sock" --json box counters 2>/dev/null |
		    grep -o '"dma_read_bytes":[0-9]*' | head -1 | cut -d: -f2)
		if [ "${b:-0}" -gt $((4 << 20)) ]; then kill -9 "$BOXPID"; echo "box killed after $b bytes" > "$dir/t5.kill"; break; fi
		sleep 0.25
	  done ) &
	killer=$!
	l2 t5 "$G_KILL" --timeout-us=200000 -- --allow-nvme-timeouts
	st=$?
	kill "$killer" 2>/dev/null
	# If the kill never came (no I/O flowed), the box is still up: end it so
	# that check 6 starts a fresh one either way.
	kill -9 "$BOXPID" 2>/dev/null; wait "$BOXPID" 2>/dev/null
	guest_ok "$dir/t5.log" disk io-errors driver-errors && [ "$st" = 0 ]
	check $? "the box killed during I/O: the driver times out and reports errors, the guest shuts down" \
		"$dir/t5.log" "$dir/t5.poller.log"
	box_start "$dir/box-back.log" || { echo "Bail out! softee-box did not come back"; exit 1; }
	l2 t6 "$G_ENUM; $G_FIO"
	st=$?
	guest_ok "$dir/t6.log" driver nvme-list fio-verify && [ "$st" = 0 ]
	check $? "a second run after the box returns works" "$dir/t6.log" "$dir/t6.poller.log" \
		"$dir/box-back.log"
fi

[ "$failed" = 0 ]
