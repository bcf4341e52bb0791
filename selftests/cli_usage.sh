#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# cli_usage.sh - every program's command line: a bad argument gives one line
# on stderr that names it ("PROG: ... (PROG --help)" from softee/args.h, or
# softeectl's and softee-trap's own), nothing on stdout, and exit status 2,
# before anything is opened or started; --help prints the usage on stdout
# and exits 0.  No daemon runs, no link opens.  TAP output.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
BD=${SOFTEE_BUILD_DIR:-build}	# make check-san: build-san
n=0 failed=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n $*"; }

# bad PROG WANT ARGS...: exit 2, stdout empty, one stderr line that starts
# with PROG's name (softee-trap: and its command) and holds WANT.
bad() {
	local prog=$1 want=$2 out err rc
	shift 2
	out=$(timeout 20 "$BD/$prog" "$@" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	if [ $rc = 2 ] && [ -z "$out" ] && [ "$(wc -l <<<"$err")" = 1 ] &&
	   [[ $err == "$prog"[:\ ]* ]] && grep -qF -- "$want" <<<"$err"; then
		ok "$prog $*: $err"
	else
		not_ok "$prog $* (exit $rc, want 2 and one line with '$want')"
		sed 's/^/# stderr: /' <<<"$err"; [ -z "$out" ] || sed 's/^/# stdout: /' <<<"$out" | head -5
	fi
}

# help PROG ARGS...: exit 0, "usage: PROG" on stdout, nothing on stderr.
help() {
	local prog=$1 out err rc
	shift
	out=$(timeout 20 "$BD/$prog" "$@" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	if [ $rc = 0 ] && [[ $out == "usage: $prog"* ]] && [ -z "$err" ]; then
		ok "$prog $* prints the usage"
	else
		not_ok "$prog $* (exit $rc, want 0 and the usage on stdout)"
		sed 's/^/# stderr: /' <<<"$err"
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for p in softee-box softee-poller softee-guest softee-linkbench softee-trap softeectl; do
	[ -x "$BD/$p" ] || { echo "1..0 # SKIP $BD/$p is not built (make)"; exit 4; }
done

# The daemons and tools that share softee/args.h.  Each case names what
# the line must hold: the option, and the value where one was given.
for p in softee-box softee-poller softee-guest; do
	help $p --help
	bad $p "unknown option '--bogus'" --bogus
	bad $p "unknown option '-x'" -x
	bad $p "--group wants a value" --group
	bad $p "--group wants a number in 0..65535, not '65536'" --group 65536
	bad $p "--group wants a number in 0..65535, not '-1'" --group -1
	bad $p "--group wants a number in 0..65535, not '7x'" --group 7x
	bad $p "--group wants a number in 0..65535, not ' 7'" --group " 7"
	bad $p "--rate-max-mbs wants a number in 1..1000000, not '0'" --rate-max-mbs 0
	bad $p "--hb-miss wants a number in 1..1000, not '0'" --hb-miss 0
	bad $p "no link" --name x
done
bad softee-box "--vlan takes no value" --dev socket:lo --vlan=1
bad softee-box "unexpected argument 'extra'" --dev socket:lo extra
bad softee-box "--fault: drop wants parts per million, 0..1000000, not 'x'" --dev socket:lo --fault drop=x
bad softee-box "--tags wants a number in 1..256, not '300'" --dev socket:lo --tags 300
bad softee-box "--rcb is 64 or 128" --dev socket:lo --rcb 100
bad softee-box "--log-level is error, warn, info or debug, not 'loud'" --dev socket:lo --log-level loud
bad softee-box "--vlan needs a group of 1..4094" --dev socket:lo --group 0 --vlan
bad softee-box "--idle-max-us wants a number in 1..1000000, not '0'" --dev socket:lo --idle-max-us 0
bad softee-box "--ethertype wants an EtherType in 0x0600..0xffff, not '0x5dc'" --dev socket:lo --ethertype 0x5dc
bad softee-box "--ethertype wants an EtherType in 0x0600..0xffff, not '0x10000'" --dev socket:lo --ethertype 0x10000
bad softee-box "--ethertype 0x8100 is a VLAN tag's TPID, not an EtherType" --dev socket:lo --ethertype 0x8100
bad softee-poller "--no-merge takes no value" --link socket:lo --no-merge=yes
bad softee-poller "unexpected argument 'extra'" --link socket:lo extra
bad softee-poller "--fault: unknown fault 'lose'" --link socket:lo --fault lose=1
bad softee-poller "--slot wants BB:DD.F" --link socket:lo --slot 1:2
bad softee-poller "--mmio-window wants BASE:LEN, not '0xc0000000'" --link socket:lo --mmio-window 0xc0000000
bad softee-poller "--kmod needs the VM" --link socket:lo --kmod
bad softee-poller "--wait wants spin, yield or sleep, not 'nap'" --link socket:lo --wait nap
bad softee-poller "--msi-vector 0x10 is an exception vector" --link socket:lo --msi-vector 0x10
bad softee-poller "--ram wants GPA:LEN:PID:FD[:OFFSET], not '0:4096:1:3:0:9'" --link socket:lo --ram 0:4096:1:3:0:9
bad softee-poller "--ethertype wants an EtherType in 0x0600..0xffff, not '88b5'" --link socket:lo --ethertype 88b5
bad softee-poller "--ethertype 0x88a8 is a VLAN tag's TPID, not an EtherType" --link socket:lo --ethertype 0x88a8
bad softee-guest "--kmod takes no value" --link socket:lo --kmod=1
bad softee-guest "unknown program 'frob'" --link socket:lo frob
bad softee-guest "unexpected argument 'extra'" --link socket:lo bench extra
bad softee-guest "--fault: delay_us wants MIN-MAX microseconds" --link socket:lo --fault delay_us=9-1
bad softee-guest "--len 65540: a multiple of 8 bytes" --link socket:lo --len 65540
bad softee-guest "--layout" --link socket:lo --layout sideways
bad softee-guest "--timeout-us wants a number in 100..10000000, not '20000000'" --link socket:lo --timeout-us 20000000

help softee-linkbench --help
bad softee-linkbench "no MODE" 
bad softee-linkbench "unknown MODE 'frob'" frob
bad softee-linkbench "'--bogus': MODE first, or EAL arguments ending in '--'" --bogus
bad softee-linkbench "unknown option '--bogus'" host --bogus
bad softee-linkbench "--count wants a number" host --count many
bad softee-linkbench "--dst wants a MAC address" raw-send --dst 1:2:3
bad softee-linkbench "--no-pack takes no value" host --no-pack=yes
bad softee-linkbench "--fault: dup wants parts per million" host --fault dup=2000000
bad softee-linkbench "unexpected argument 'extra'" host extra
bad softee-linkbench "line wants both --cpu and --peer-cpu" line --cpu 0
bad softee-linkbench "line wants two CPUs: --cpu and --peer-cpu are both 1" line --cpu 1 --peer-cpu 1
bad softee-linkbench "--peer-cpu is for line only" stall --peer-cpu 1
bad softee-linkbench "--ethertype wants an EtherType in 0x0600..0xffff, not '1500'" host --ethertype 1500
bad softee-linkbench "--ethertype 0x8100 is a VLAN tag's TPID, not an EtherType" raw-send --ethertype 0x8100

# The two with their own (older) wording, held to the same shape.
bad softee-trap "no command: run, bench, attach or help"
bad softee-trap "is not a command" frobnicate
bad softee-trap "--count" run --count x
bad softeectl "unknown option '--bogus'" --bogus
bad softeectl "--timeout-ms wants a number" --timeout-ms soon devices

echo "1..$n"
[ $failed = 0 ]
