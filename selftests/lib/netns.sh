# SPDX-License-Identifier: GPL-2.0
# selftests/lib/netns.sh - two network namespaces joined by a veth pair, and
# softee-linkbench ends run in them, for the transport tests and benchmark.
# Source it from bash.
#
#   netns_check               0, or 1 with the reason it cannot run in $NETNS_WHY
#   netns_require             the same for a TAP test: exits 4 (skip) with the reason
#   netns_up                  makes $NS_A/$NS_B joined by $IF_A/$IF_B (unique
#                             names), and arranges netns_down at exit
#   lb_start NAME WHERE BACKEND CPU MODE ARGS...
#                             starts softee-linkbench in the background in
#                             namespace WHERE (a, b, or root) on BACKEND
#                             (socket | dpdk | memif-server | memif-client),
#                             pinned to CPU; output in $LB_DIR/NAME.log; its
#                             pid in LB_PID[NAME]; with LB_WRAP set, the
#                             command in it runs softee-linkbench (strace,
#                             say: the end's pid is then the wrapper's)
#   lb_wait_line NAME REGEX SECS   waits for a line in NAME's log
#   lb_wait NAME SECS         waits for NAME to exit; its status in LB_RC[NAME]
#   lb_result NAME KEY        a key=value of NAME's "linkbench: result" line
#   lb_kill NAME              SIGKILL
#   lb_line_rt                how long a cache line takes from CPU 0 to CPU 1
#                             and back, in ns (nothing if it cannot tell):
#                             where the hypervisor runs this machine's two
#                             virtual CPUs (user/linkbench/README.md)
#
# Every name carries softee-$$ so that parallel runs never meet; netns_down
# kills what lb_start started, deletes the namespaces (the veth pair goes
# with them), the memif sockets and DPDK's runtime directories.

LB_BIN=${LB_BIN:-${SOFTEE_BUILD_DIR:-build}/softee-linkbench}
declare -A LB_PID LB_RC
LB_TAG=st$$
LB_DIR=
NS_A= NS_B= IF_A= IF_B=
MEMIF_SOCK=

netns_check() {
	local why=
	if [ "$(id -u)" != 0 ]; then why="needs root (network namespaces, AF_PACKET)"
	elif ! command -v ip >/dev/null; then why="no 'ip' (iproute2)"
	elif ! ip netns list >/dev/null 2>&1; then why="'ip netns' does not work here"
	elif [ ! -x "$LB_BIN" ]; then why="$LB_BIN is not built (make user)"
	fi
	if [ -z "$why" ]; then
		# A throw-away pair says whether veth and namespaces really work.
		local t=softee-probe-$$
		if ! ip netns add "$t" 2>/dev/null; then why="cannot create a network namespace"
		elif ! ip link add "${LB_TAG}p0" type veth peer name "${LB_TAG}p1" netns "$t" 2>/dev/null; then
			why="cannot create a veth pair (no veth driver?)"
		fi
		ip link del "${LB_TAG}p0" 2>/dev/null
		ip netns del "$t" 2>/dev/null
	fi
	NETNS_WHY=$why
	[ -z "$why" ]
}

netns_require() {
	if ! netns_check; then
		echo "1..0 # SKIP $NETNS_WHY"
		exit 4
	fi
}

netns_down() {
	local name
	for name in "${!LB_PID[@]}"; do
		kill -9 "${LB_PID[$name]}" 2>/dev/null
	done
	wait 2>/dev/null
	[ -n "$NS_A" ] && ip netns del "$NS_A" 2>/dev/null
	[ -n "$NS_B" ] && ip netns del "$NS_B" 2>/dev/null
	rm -rf /var/run/dpdk/"softee-$$"-* 2>/dev/null
	[ -n "$LB_DIR" ] && [ -z "${LB_KEEP:-}" ] && rm -rf "$LB_DIR"
	NS_A= NS_B=
}

netns_up() {
	NS_A=softee-$$-a
	NS_B=softee-$$-b
	IF_A=${LB_TAG}a
	IF_B=${LB_TAG}b
	MEMIF_SOCK=/run/softee-$$.memif
	LB_DIR=$(mktemp -d /tmp/softee-netns.XXXXXX)
	trap 'netns_down' EXIT
	trap 'exit 130' INT TERM
	ip netns add "$NS_A" && ip netns add "$NS_B" &&
	ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B" &&
	ip -n "$NS_A" link set "$IF_A" up && ip -n "$NS_B" link set "$IF_B" up &&
	ip -n "$NS_A" link set lo up && ip -n "$NS_B" link set lo up || {
		echo "netns: cannot set up $NS_A/$NS_B joined by $IF_A/$IF_B" >&2
		return 1
	}
	# No IPv6 chatter (router solicitations, DAD) on the link under test.
	ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	ip netns exec "$NS_B" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	return 0
}

# netns_mtu MTU: both ends of the veth.
netns_mtu() {
	ip -n "$NS_A" link set "$IF_A" mtu "$1" && ip -n "$NS_B" link set "$IF_B" mtu "$1"
}

# lb_cmd WHERE BACKEND CPU NAME: the command line that starts an end.
lb_cmd() {
	local where=$1 backend=$2 cpu=$3 name=$4 ns= ifname= eal bin=${LB_WRAP:+$LB_WRAP }$LB_BIN
	case $where in
	a) ns=$NS_A ifname=$IF_A ;;
	b) ns=$NS_B ifname=$IF_B ;;
	root) ;;
	*) echo "lb_cmd: bad place '$where'" >&2; return 1 ;;
	esac
	eal="-l $cpu --no-huge -m ${LB_EAL_MEM:-256} --no-pci --file-prefix softee-$$-$name --log-level=${LB_EAL_LOG:-warning}"
	[ -n "$ns" ] && printf 'ip netns exec %s ' "$ns"
	case $backend in
	socket) echo "taskset -c $cpu $bin @MODE@ --dev socket:$ifname" ;;
	dpdk) echo "$bin $eal -- @MODE@ --dev dpdk:net_af_packet0,iface=$ifname${LB_AFP_ARGS:-}" ;;
	memif-server) echo "$bin $eal -- @MODE@ --dev dpdk:net_memif0,role=server,socket=$MEMIF_SOCK${LB_MEMIF_ARGS:-} --link-wait-ms 30000" ;;
	memif-client) echo "$bin $eal -- @MODE@ --dev dpdk:net_memif0,role=client,socket=$MEMIF_SOCK${LB_MEMIF_ARGS:-}" ;;
	*) echo "lb_cmd: bad backend '$backend'" >&2; return 1 ;;
	esac
}

lb_start() {
	local name=$1 where=$2 backend=$3 cpu=$4 mode=$5 cmd
	shift 5
	cmd=$(lb_cmd "$where" "$backend" "$cpu" "$name") || return 1
	cmd=${cmd/@MODE@/$mode}
	echo "$cmd $*" > "$LB_DIR/$name.cmd"
	# shellcheck disable=SC2086
	$cmd "$@" > "$LB_DIR/$name.log" 2>&1 &
	LB_PID[$name]=$!
	unset "LB_RC[$name]"
	# A memif client cannot start before its server listens.
	if [ "$backend" = memif-server ]; then
		local i
		for ((i = 0; i < 200; i++)); do
			grep -q "@$MEMIF_SOCK\$" /proc/net/unix && return 0
			kill -0 "${LB_PID[$name]}" 2>/dev/null || return 0
			sleep 0.05
		done
	fi
	return 0
}

lb_wait_line() {
	local name=$1 re=$2 secs=$3 i
	for ((i = 0; i < secs * 20; i++)); do
		grep -qE "$re" "$LB_DIR/$name.log" 2>/dev/null && return 0
		if ! kill -0 "${LB_PID[$name]}" 2>/dev/null; then
			grep -qE "$re" "$LB_DIR/$name.log" 2>/dev/null
			return
		fi
		sleep 0.05
	done
	return 1
}

lb_wait() {
	local name=$1 secs=$2 i pid=${LB_PID[$1]}
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		LB_RC[$name]=124
		return 124
	fi
	wait "$pid"
	LB_RC[$name]=$?
	return "${LB_RC[$name]}"
}

lb_kill() {
	kill -9 "${LB_PID[$1]}" 2>/dev/null
	wait "${LB_PID[$1]}" 2>/dev/null
}

lb_line_rt() {
	timeout 10 "$LB_BIN" line --cpu 0 --peer-cpu 1 --count 22000 2>/dev/null |
		sed -n 's/.* rt_ns=\([^ ]*\).*/\1/p'
}

lb_result() {
	sed -n "s/^linkbench: result .*\\b$2=\\([^ ]*\\).*/\\1/p" "$LB_DIR/$1.log" | tail -1
}

# lb_log NAME: its command and output, as TAP comments.
lb_log() {
	{
		echo "cmd: $(cat "$LB_DIR/$1.cmd" 2>/dev/null)"
		# a crash: its whole backtrace, which the last lines would cut
		if grep -q "fatal signal" "$LB_DIR/$1.log" 2>/dev/null; then
			sed -n '/fatal signal/,$p' "$LB_DIR/$1.log"
		else
			tail -n "${2:-15}" "$LB_DIR/$1.log"
		fi
	} | sed 's/^/#   /'
}
