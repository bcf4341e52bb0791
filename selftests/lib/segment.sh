# SPDX-License-Identifier: GPL-2.0
# selftests/lib/segment.sh - an Ethernet segment of network namespaces: a
# bridge in a namespace of its own, and one namespace per node with a veth
# into it.  For the end-to-end tests, the demo and the e2e benchmark.
# Source it from bash.
#
#   seg_check              0, or 1 with the reason in $SEG_WHY
#   seg_up NODE...         makes the segment and a namespace per node;
#                          ${SEG_NS[NODE]} and ${SEG_IF[NODE]} name them;
#                          arranges seg_down at exit
#   seg_run NODE LOG CMD...   starts CMD in NODE's namespace in the
#                          background, output to LOG; its pid in $SEG_LAST
#   seg_down               kills every process in the namespaces, removes them
#
# Names carry softee-$$ so that parallel runs never meet.

declare -A SEG_NS SEG_IF
SEG_BR_NS=
SEG_TAG=sg$$
SEG_LAST=

seg_check() {
	SEG_WHY=
	if [ "$(id -u)" != 0 ]; then SEG_WHY="needs root (network namespaces, AF_PACKET)"
	elif ! command -v ip >/dev/null; then SEG_WHY="no 'ip' (iproute2)"
	elif ! ip netns list >/dev/null 2>&1; then SEG_WHY="'ip netns' does not work here"
	else
		local t=softee-probe-$$
		if ! ip netns add "$t" 2>/dev/null; then SEG_WHY="cannot create a network namespace"
		elif ! ip link add "${SEG_TAG}p0" type veth peer name "${SEG_TAG}p1" netns "$t" 2>/dev/null; then
			SEG_WHY="cannot create a veth pair (no veth driver?)"
		elif ! ip -n "$t" link add "${SEG_TAG}br" type bridge 2>/dev/null; then
			SEG_WHY="cannot create a bridge (no bridge driver?)"
		fi
		ip link del "${SEG_TAG}p0" 2>/dev/null
		ip netns del "$t" 2>/dev/null
	fi
	[ -z "$SEG_WHY" ]
}

seg_down() {
	local ns pid
	for ns in "${SEG_NS[@]}" $SEG_BR_NS; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
	done
	wait 2>/dev/null
	for ns in "${SEG_NS[@]}" $SEG_BR_NS; do
		ip netns del "$ns" 2>/dev/null
	done
	SEG_NS=() SEG_BR_NS=
}

seg_up() {
	local node i=0 br=${SEG_TAG}br
	SEG_BR_NS=softee-$$-seg
	trap 'seg_down' EXIT
	trap 'exit 130' INT TERM
	ip netns add "$SEG_BR_NS" &&
	ip -n "$SEG_BR_NS" link add "$br" type bridge &&
	# forward at once: no STP listening and learning delay on new ports
	ip -n "$SEG_BR_NS" link set "$br" type bridge forward_delay 0 stp_state 0 &&
	ip -n "$SEG_BR_NS" link set "$br" up || return 1
	ip netns exec "$SEG_BR_NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
	for node in "$@"; do
		SEG_NS[$node]=softee-$$-$node
		SEG_IF[$node]=${SEG_TAG}n$i
		ip netns add "${SEG_NS[$node]}" &&
		ip link add "${SEG_IF[$node]}" netns "${SEG_NS[$node]}" type veth \
			peer name "${SEG_TAG}s$i" netns "$SEG_BR_NS" &&
		ip -n "$SEG_BR_NS" link set "${SEG_TAG}s$i" master "$br" up &&
		ip -n "${SEG_NS[$node]}" link set "${SEG_IF[$node]}" up &&
		ip -n "${SEG_NS[$node]}" link set lo up || return 1
		# no IPv6 chatter on the segment, where the kernel has IPv6
		ip netns exec "${SEG_NS[$node]}" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
		i=$((i + 1))
	done
}

seg_run() {
	local node=$1 log=$2
	shift 2
	ip netns exec "${SEG_NS[$node]}" "$@" > "$log" 2>&1 &
	SEG_LAST=$!
}

# seg_wait_line LOG REGEX SECS PID: waits for a line in LOG while PID lives.
seg_wait_line() {
	local log=$1 re=$2 secs=$3 pid=$4 i
	for ((i = 0; i < secs * 20; i++)); do
		grep -qE "$re" "$log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -qE "$re" "$log" 2>/dev/null
}
