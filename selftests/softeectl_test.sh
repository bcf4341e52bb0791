#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# softeectl_test.sh - the operator's CLI against real daemons: a
# softee-poller (socket backend, no --kmod: it configures devices and traps
# nothing) in one network namespace, and two softee-boxes with the test
# endpoint in another, one in the poller's group (7) and one in another
# group (9), all on one Ethernet segment (a veth pair, and a bridge on the
# boxes' side so that each box has its own MAC).  Short heartbeats
# (--hb-ms 20) keep it to a few seconds.
#
#  - the JSON reader's unit test (build/selftests/softeectl_json_test);
#  - usage errors exit 2 with one line, an unreachable socket exits 1 and
#    names the path, a daemon's error exits 1 and is printed;
#  - devices shows the test endpoint (50f7:7e57) ready with its BARs
#    assigned; config and counters; every --json output parses;
#  - segment lists the host and both boxes with their groups;
#  - box set-group 8 makes the poller lose the device within a few
#    heartbeat periods, set-group 7 brings it back configured at the same
#    address; the box of group 9 is never one of the poller's devices.
#
# TAP on stdout; exits 1 on a failure, 4 (skip, with the reason) when the
# programs are not built.  Network namespaces missing (not root, no veth):
# the daemon tests are reported as skipped.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=selftests/lib/netns.sh
. selftests/lib/netns.sh
# shellcheck source=selftests/lib/tap.sh
. selftests/lib/tap.sh

BD=${SOFTEE_BUILD_DIR:-build}
CTL=$BD/softeectl
for p in "$CTL" "$BD/softee-poller" "$BD/softee-box" "$BD/selftests/softeectl_json_test"; do
	if [ ! -x "$p" ]; then
		echo "1..0 # SKIP $p is not built (make user selftests)"
		exit 4
	fi
done

n=0
failed=0
# check STATUS NAME [OUTPUT]: ok, or not ok with the output as comments.
check() {
	if [ "$1" = 0 ]; then
		ok "$2"
	else
		not_ok "$2"
		[ $# -gt 2 ] && printf '%s\n' "$3" | head -40 | sed 's/^/#   /'
	fi
	return 0
}

echo "TAP version 13"

# ---- the JSON reader ---------------------------------------------------------------

out=$("$BD/selftests/softeectl_json_test" 2>&1)
check $? "json reader: $(grep -c '^ok ' <<<"$out") unit tests pass" "$out"

# A JSON document parses: python3's json if there is one, else a shape check.
if command -v python3 >/dev/null; then
	json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' 2>&1; }
	json_how=python3
else
	json_ok() { local s; s=$(cat); [[ $s == "{"*"}" ]] && [ "$(wc -l <<<"$s")" = 1 ]; }
	json_how="shape only, no python3"
fi

# ---- usage errors, unreachable daemons (no daemon needed) ---------------------------

# usage_err NAME ARGS...: exit 2, one line on stderr that shows the usage.
usage_err() {
	local name=$1 err rc
	shift
	err=$("$CTL" "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc = 2 ] && [ "$(wc -l <<<"$err")" = 1 ] && grep -q 'usage: softeectl' <<<"$err"
	check $? "usage error, exit 2: $name (exit $rc)" "$err"
}
usage_err "no command"
usage_err "unknown command" frobnicate
usage_err "unknown option" --frob devices
usage_err "option without its value" devices --timeout-ms
usage_err "--timeout-ms not a number" --timeout-ms soon devices
usage_err "--box-group out of range" --box-group 70000 box status
usage_err "--box with --box-group" --box /tmp/x.sock --box-group 3 box status
usage_err "devices with an argument" devices extra
usage_err "config without DEV" config
usage_err "config DEV not an index or BDF" config zz
usage_err "config BDF out of range" config 01:20.0
usage_err "box without a command" box
usage_err "box unknown command" box reboot
usage_err "box set-group without N" box set-group
usage_err "box set-group N out of range" --box /tmp/x.sock box set-group 65536
usage_err "box set-group N not a number" --box /tmp/x.sock box set-group -1
usage_err "box command with two boxes" --box /tmp/x.sock --box /tmp/y.sock box status
usage_err "poller unknown command" poller restart
usage_err "attach without --pid" attach --slot 00:10.0 --link socket:lo
usage_err "attach --slot not BB:DD.F" attach --pid 1 --slot 00:20.0 --link socket:lo
usage_err "attach --eal-arg with a socket link" attach --pid 1 --slot 00:10.0 --link socket:lo --eal-arg -l
usage_err "attach dpdk link without --eal-arg" attach --pid 1 --slot 00:10.0 --link dpdk:net_null0
usage_err "attach --eal-arg --" attach --pid 1 --slot 00:10.0 --link dpdk:net_null0 --eal-arg --

nosock=/tmp/softeectl-nothing-$$.sock
err=$("$CTL" --poller "$nosock" devices 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "$nosock" <<<"$err" && grep -q -- '--poller PATH' <<<"$err"
check $? "poller unreachable: exit 1, the path and --poller in the message (exit $rc)" "$err"
err=$("$CTL" --box "$nosock" box status 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "$nosock" <<<"$err" && grep -q -- '--box PATH' <<<"$err"
check $? "box unreachable: exit 1, the path and --box in the message (exit $rc)" "$err"

# A socket file nobody listens on (a daemon that died).
dead=$(mktemp -u /tmp/softeectl-dead-XXXXXX.sock)
if python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$dead" 2>/dev/null; then
	err=$("$CTL" --poller "$dead" devices 2>&1 >/dev/null); rc=$?
	[ $rc = 1 ] && grep -q "$dead" <<<"$err"
	check $? "stale socket: exit 1 with the path (exit $rc)" "$err"
	rm -f "$dead"
else
	skip "stale socket: exit 1 with the path" "no python3 to make one"
fi

# A pid file that outlived its poller, its pid now another process's:
# detach says it is not attached and kills nothing.
mkdir -p /run/softee
sleep 30 &
other=$!
fake=$((4000000 + $$ % 100000))		# no such QEMU pid: only the pid file matters
echo "$other" > "/run/softee/poller-$fake.pid"
err=$("$CTL" detach --pid "$fake" --wait-ms 100 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "not attached" <<<"$err" && kill -0 "$other" 2>/dev/null
check $? "detach with a stale pid file: exit 1, the process it names untouched (exit $rc)" "$err"
kill "$other" 2>/dev/null; wait "$other" 2>/dev/null
rm -f "/run/softee/poller-$fake.pid"

# ---- the daemons -------------------------------------------------------------------

DAEMON_TESTS=15
if ! netns_check; then
	for ((i = 0; i < DAEMON_TESTS; i++)); do skip "daemons in network namespaces" "$NETNS_WHY"; done
	echo "1..$n"
	exit $failed
fi
# netns_check said namespaces work here: a setup that fails now is a failure.
netns_up || {
	for ((i = 0; i < DAEMON_TESTS; i++)); do check 1 "daemons in network namespaces: cannot set up"; done
	echo "1..$n"
	exit 1
}

D=$(mktemp -d /tmp/softeectl-test.XXXXXX)
declare -A PID
cleanup() {
	local k
	for k in "${!PID[@]}"; do
		kill "${PID[$k]}" 2>/dev/null
	done
	for k in "${!PID[@]}"; do
		wait "${PID[$k]}" 2>/dev/null
	done
	netns_down
	[ -z "${LB_KEEP:-}" ] && rm -rf "$D"
}
trap cleanup EXIT

# The boxes' side: a bridge with IF_B and one veth pair per box, so that the
# two boxes have MACs of their own on the poller's segment.
BOX7_IF=$IF_B BOX9_IF=
if ip -n "$NS_B" link add br0 type bridge 2>/dev/null &&
   ip -n "$NS_B" link set "$IF_B" master br0 &&
   ip -n "$NS_B" link add b7 type veth peer name b7p &&
   ip -n "$NS_B" link add b9 type veth peer name b9p &&
   ip -n "$NS_B" link set b7p master br0 && ip -n "$NS_B" link set b9p master br0 &&
   ip -n "$NS_B" link set br0 up && ip -n "$NS_B" link set b7 up && ip -n "$NS_B" link set b7p up &&
   ip -n "$NS_B" link set b9 up && ip -n "$NS_B" link set b9p up; then
	BOX7_IF=b7 BOX9_IF=b9
fi

PS=$D/poller.sock B7=$D/box-7.sock B9=$D/box-9.sock
HB="--hb-ms 20 --hb-miss 3"
# shellcheck disable=SC2086
ip netns exec "$NS_B" "$BD/softee-box" --dev "socket:$BOX7_IF" --group 7 --name box7 --ctl "$B7" $HB \
	--rate-max-mbs 3000 > "$D/box7.log" 2>&1 &
PID[box7]=$!
if [ -n "$BOX9_IF" ]; then
	# shellcheck disable=SC2086
	ip netns exec "$NS_B" "$BD/softee-box" --dev "socket:$BOX9_IF" --group 9 --name box9 --ctl "$B9" $HB \
		> "$D/box9.log" 2>&1 &
	PID[box9]=$!
fi
# shellcheck disable=SC2086
ip netns exec "$NS_A" "$BD/softee-poller" --link "socket:$IF_A" --group 7 --name host7 --ctl "$PS" $HB \
	--rate-max-mbs 2500 > "$D/poller.log" 2>&1 &
PID[poller]=$!

logs() { for f in "$D"/*.log; do echo "== $f"; tail -n 15 "$f"; done; }
sc() { "$CTL" --poller "$PS" --box "$B7" ${BOX9_IF:+--box "$B9"} "$@"; }
# wait_for SECS REGEX ARGS...: until softeectl ARGS prints a line matching REGEX.
wait_for() {
	local secs=$1 re=$2 i
	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		"$CTL" "$@" 2>/dev/null | grep -qE "$re" && return 0
		sleep 0.05
	done
	return 1
}

wait_for 10 ' 50f7:7e57 .* ready ' --poller "$PS" devices
st=$?
out=$("$CTL" --poller "$PS" devices 2>&1)
[ $st = 0 ] && grep -qE '^ +0 +BAR0 +mem32 +0xc0000000 +0x1000 ' <<<"$out" &&
	grep -qE '^ +0 +BAR2 +mem64 +0xc0[0-9a-f]{6} +0x200000 ' <<<"$out"
check $? "devices: the test endpoint 50f7:7e57 ready, BAR0 and BAR2 assigned" "$out
$(logs)"
bar0_before=$(awk '$2 == "BAR0" { print $4 }' <<<"$out")

out=$("$CTL" --poller "$PS" config 01:00.0 2>&1)
grep -q '^00: f7 50 57 7e' <<<"$out" && grep -qE '^BAR0 +mem32 +0xc0000000 +0x1000' <<<"$out" &&
	grep -q 'MSI enabled, address 0xfee00000' <<<"$out"
check $? "config 01:00.0: the hexdump, decoded BARs, MSI" "$out"

out=$(sc counters 0 2>&1)
grep -qE '^ +0 +01:00.0 +up ' <<<"$out" && grep -q '^box box7 ' <<<"$out" && ! grep -q '^box box9 ' <<<"$out"
check $? "counters 0: the device's session and its box (only)" "$out"

# --rate-max-mbs: each end's rate control has the ceiling it was given.
out=$("$CTL" --poller "$PS" --json counters 0 2>&1; "$CTL" --box "$B7" --json box peers 2>&1)
grep -q '"rate_max_Bps":2500000000,' <<<"$out" && grep -q '"rate_max_Bps":3000000000,' <<<"$out"
check $? "--rate-max-mbs: the poller's session and the box's peer show their ceilings" "$out"

# Every --json output is one document that parses.
st=0 bad=
for cmd in devices "config 0" counters "counters 01:00.0" "poller status" segment; do
	# shellcheck disable=SC2086
	o=$(sc --json $cmd 2>&1) && e=$(json_ok <<<"$o") || { st=1; bad="$bad [$cmd] $o $e"; }
done
for cmd in status peers counters; do
	o=$("$CTL" --box "$B7" --json box $cmd 2>&1) && e=$(json_ok <<<"$o") || { st=1; bad="$bad [box $cmd] $o $e"; }
done
check $st "--json: devices, config, counters, poller status, segment, box status/peers/counters parse ($json_how)" "$bad"

out=$(sc segment 2>&1)
host_mac=$("$CTL" --poller "$PS" --json poller status | sed -n 's/.*"mac":"\([^"]*\)".*/\1/p')
grep -qE "^host +$host_mac +7 +host7 " <<<"$out" && grep -qE '^box +[0-9a-f:]{17} +7 +box7 ' <<<"$out"
check $? "segment: the host ($host_mac) and box7, group 7" "$out"
if [ -n "$BOX9_IF" ]; then
	grep -qE '^box +[0-9a-f:]{17} +9 +box9 ' <<<"$out" && grep -qE ' 9 +0 +01:00.0 +50f7:7e57 +test +- +free' <<<"$out"
	check $? "segment: box9 in group 9, its endpoint free" "$out"
else
	skip "segment: box9 in group 9" "no bridge in this kernel: one box only"
fi

box9_mac=
[ -n "$BOX9_IF" ] && box9_mac=$("$CTL" --box "$B9" --json box status | sed -n 's/.*"mac":"\([^"]*\)".*/\1/p')
# never_box9: the poller has one device, and it is not box9's.
never_box9() {
	local o
	o=$("$CTL" --poller "$PS" --json devices) || return 1
	[ "$(grep -o '"idx":' <<<"$o" | wc -l)" = 1 ] || return 1
	[ -z "$box9_mac" ] || ! grep -q "$box9_mac" <<<"$o"
}
never_box9; st9=$?

t0=$(date +%s%N)
out=$("$CTL" --box "$B7" box set-group 8 2>&1)
[ $? = 0 ] && grep -q 'group 8' <<<"$out"
check $? "box set-group 8" "$out"
# Lost within a few heartbeat periods (the box tells its peers it leaves: at once).
wait_for 2 ' 50f7:7e57 .* down ' --poller "$PS" devices
st=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check $st "devices: the device down ${ms} ms after the group change" "$("$CTL" --poller "$PS" devices 2>&1)"
never_box9 || st9=1

out=$(sc segment 2>&1)
grep -qE '^box +[0-9a-f:]{17} +8 +box7 +local' <<<"$out"
check $? "segment: box7 now in group 8" "$out"

out=$("$CTL" --box "$B7" box set-group 7 2>&1)
check $? "box set-group 7" "$out"
wait_for 10 ' 50f7:7e57 .* ready ' --poller "$PS" devices
st=$?
out=$("$CTL" --poller "$PS" devices 2>&1)
bar0_after=$(awk '$2 == "BAR0" { print $4 }' <<<"$out")
[ $st = 0 ] && [ -n "$bar0_after" ] && [ "$bar0_after" = "$bar0_before" ]
check $? "devices: back and configured, BAR0 at the same address ($bar0_before)" "$out
$(logs)"
never_box9 || st9=1
if [ -n "$BOX9_IF" ]; then
	check $st9 "the box of group 9 ($box9_mac) never was one of the poller's devices"
else
	skip "the box of group 9 never a device of the poller" "no bridge in this kernel"
fi

err=$("$CTL" --poller "$PS" config 5 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q 'no device 5' <<<"$err"
check $? "config 5: the error said, exit 1 (exit $rc)" "$err"

kill "${PID[box7]}" && wait "${PID[box7]}" 2>/dev/null
unset "PID[box7]"
err=$("$CTL" --box "$B7" box status 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q "$B7" <<<"$err"
check $? "box7 stopped: box status exits 1 naming $B7 (exit $rc)" "$err"

echo "1..$n"
exit $failed
