# netns.sh - test networks made of network namespaces and veth pairs, for
# the scenarios that change the network under the watcher's feet.  Source
# it after common.sh (its cleanup is chained before common.sh's) or alone.
# Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2.
#
# netns_create builds three namespaces, named after this shell's pid so
# that scenarios may run at once:
#
#	router A  $NS_A    eth0 10.1.0.1/24 fd0a::1/64   MAC $MAC_A   "home"
#	router B  $NS_B    eth0 10.2.0.1/24 fd0b::1/64   MAC $MAC_B   "cafe"
#	laptop    $NS_LAP  lana 10.1.0.2/24 fd0a::2/64   (cable to A)
#	                   lanb 10.2.0.2/24 fd0b::2/64   (cable to B)
#
# The laptop starts with both of its links down and no default route: it
# is nowhere.  netns_join A puts it on A's network (its link up, default
# routes through A), netns_join B on B's; netns_leave, netns_unplug,
# netns_ifdown take it off in the three ways a laptop loses a network.
# Nothing waits: each function returns when iproute2 has done its part, and
# the scenario polls for what the software under test makes of it.
#
# Run things in the laptop with netns_exec (or wrap a binary with
# netns_wrapper, for harness variables such as ROAMSMTPD).  The laptop's
# /etc/resolv.conf is its own: netns_resolv writes it (ip netns exec
# bind-mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf).

NETNS_PREFIX=rsmtp-
NS_LAP=${NETNS_PREFIX}$$-lap
NS_A=${NETNS_PREFIX}$$-a
NS_B=${NETNS_PREFIX}$$-b
# Locally administered, so that they can clash with no real card.
MAC_A=02:aa:00:00:00:01
MAC_B=02:bb:00:00:00:01
MAC_LAP_A=02:aa:00:00:00:02
MAC_LAP_B=02:bb:00:00:00:02
GW4_A=10.1.0.1
GW4_B=10.2.0.1
GW6_A=fd0a::1
GW6_B=fd0b::1
NETNS_ETC=/etc/netns/$NS_LAP
_NETNS_MADE_ETC=	# we created /etc/netns, so we remove it if empty

# A failure here fails the scenario through common.sh's fail when there
# is one.
_netns_fail() {
	if declare -F fail >/dev/null; then
		fail "$*"
	fi
	printf 'FAIL: netns: %s\n' "$*" >&2
	exit 1
}

netns_need_root() {
	[ "$(id -u)" -eq 0 ] && command -v ip >/dev/null ||
	    _netns_fail "network namespaces need root and iproute2 (ip)"
}

# Namespaces left by a scenario that was killed (SIGKILL skips traps):
# ours by name, and their shell is gone.
netns_reap_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		case $ns in
		"$NETNS_PREFIX"*) ;;
		*) continue ;;
		esac
		pid=${ns#"$NETNS_PREFIX"}
		pid=${pid%%-*}
		case $pid in
		''|*[!0-9]*) continue ;;
		esac
		kill -0 "$pid" 2>/dev/null && continue
		ip netns del "$ns" 2>/dev/null || true
		rm -rf "/etc/netns/$ns"
	done
}

# netns_cleanup: delete what netns_create made, after the processes in
# it (all started by this scenario: the namespaces are its own).  Keeps the
# exit status it was called with, so that common.sh's cleanup after it sees
# the test's.
netns_cleanup() {
	local rc=$? ns pid i
	set +e
	trap - ERR
	for ns in "$NS_LAP" "$NS_A" "$NS_B"; do
		[ -e "/run/netns/$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
		for i in $(seq 100); do
			[ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
			sleep 0.05
		done
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -9 "$pid" 2>/dev/null
		done
		# The veths go with the namespaces.
		ip netns del "$ns" ||
		    printf 'netns: could not delete namespace %s\n' "$ns" >&2
	done
	rm -rf "$NETNS_ETC"
	[ -z "$_NETNS_MADE_ETC" ] || rmdir /etc/netns 2>/dev/null
	return "$rc"
}

if declare -F cleanup >/dev/null; then
	trap 'netns_cleanup; cleanup' EXIT
else
	trap netns_cleanup EXIT
fi

# _netns_router NS IFNAME MAC ADDR4 ADDR6 PEER-IFNAME PEER-MAC PEER4 PEER6
_netns_router() {
	local ns=$1
	ip -n "$NS_LAP" link add "$6" address "$7" type veth \
	    peer name "$2" address "$3" netns "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "$4/24" dev "$2"
	# nodad: the address is usable at once, so no flag flips later.
	ip -n "$ns" addr add "$5/64" dev "$2" nodad
	ip -n "$ns" link set "$2" up
	ip -n "$NS_LAP" addr add "$8/24" dev "$6"
	ip -n "$NS_LAP" addr add "$9/64" dev "$6" nodad
}

netns_create() {
	local ns
	netns_need_root
	netns_reap_stale
	ip netns add "$NS_LAP"
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	# Keep IPv6 addresses on a link taken down, as the IPv4 ones are:
	# a router or laptop switched back on has its configuration again.
	for ns in "$NS_LAP" "$NS_A" "$NS_B"; do
		ip netns exec "$ns" sysctl -qw \
		    net.ipv6.conf.all.keep_addr_on_down=1 \
		    net.ipv6.conf.default.keep_addr_on_down=1
	done
	ip -n "$NS_LAP" link set lo up
	_netns_router "$NS_A" eth0 "$MAC_A" "$GW4_A" "$GW6_A" \
	    lana "$MAC_LAP_A" 10.1.0.2 fd0a::2
	_netns_router "$NS_B" eth0 "$MAC_B" "$GW4_B" "$GW6_B" \
	    lanb "$MAC_LAP_B" 10.2.0.2 fd0b::2
	[ -d /etc/netns ] || { mkdir /etc/netns && _NETNS_MADE_ETC=1; }
	mkdir -p "$NETNS_ETC"
	: > "$NETNS_ETC/resolv.conf"
}

# _netns_side A|B: sets _if, _gw4, _gw6 for that network.
_netns_side() {
	case $1 in
	A) _if=lana _gw4=$GW4_A _gw6=$GW6_A ;;
	B) _if=lanb _gw4=$GW4_B _gw6=$GW6_B ;;
	*) _netns_fail "netns: no network '$1' (A or B)" ;;
	esac
}

# netns_join A|B: the laptop's link to that network up, and its default
# routes (IPv4 and IPv6) through that router, replacing any other.
netns_join() {
	local _if _gw4 _gw6
	_netns_side "$1"
	ip -n "$NS_LAP" link set "$_if" up
	ip -n "$NS_LAP" route replace default via "$_gw4" dev "$_if"
	ip -n "$NS_LAP" -6 route replace default via "$_gw6" dev "$_if"
}

# netns_leave: no default route any more (the links stay up): DHCP lease
# gone, or a VPN that took the route away.
netns_leave() {
	ip -n "$NS_LAP" route flush exact 0.0.0.0/0
	ip -n "$NS_LAP" -6 route flush exact ::/0
}

# netns_ifdown A|B: the laptop turns its link off; the kernel drops the
# routes through it.
netns_ifdown() {
	local _if _gw4 _gw6
	_netns_side "$1"
	ip -n "$NS_LAP" link set "$_if" down
}

# netns_unplug A|B / netns_plug A|B: the router's end goes down (cable
# pulled, access point gone): the laptop's link loses its carrier, and the
# kernel keeps the addresses and routes, marked linkdown.
netns_unplug() {
	local ns
	case $1 in A) ns=$NS_A ;; B) ns=$NS_B ;; *) _netns_fail "no '$1'" ;; esac
	ip -n "$ns" link set eth0 down
}

netns_plug() {
	local ns
	case $1 in A) ns=$NS_A ;; B) ns=$NS_B ;; *) _netns_fail "no '$1'" ;; esac
	ip -n "$ns" link set eth0 up
}

# netns_traffic A|B: UDP datagrams to the router (discard port; it answers
# port unreachable), as the laptop's own traffic would send, until the
# kernel has resolved the router's MAC for IPv4 and IPv6.  A bare laptop
# talks to no one, and a gateway's MAC is known only after traffic went to
# it.  (A datagram sent while IPv6 is still settling on a link that just
# got its carrier back is lost without a trace: hence the repeat.)
netns_traffic() {
	local _if _gw4 _gw6 end
	_netns_side "$1"
	end=$(($(date +%s) + ${WAIT_DEADLINE:-60}))
	until _netns_resolved "$_if" "$_gw4" && _netns_resolved "$_if" "$_gw6"
	do
		[ "$(date +%s)" -lt "$end" ] ||
		    _netns_fail "the laptop never resolved router $1's MAC"
		ip netns exec "$NS_LAP" bash -c \
		    'echo x > "/dev/udp/$1/9"; echo x > "/dev/udp/$2/9"' \
		    traffic "$_gw4" "$_gw6" 2>/dev/null || true
		sleep 0.1
	done
}

_netns_resolved() {	# IFNAME ADDR
	ip -n "$NS_LAP" neigh show to "$2" dev "$1" | grep -q lladdr
}

# netns_resolv LINE...: the laptop's resolv.conf, rewritten in place (a
# rename would not reach a process that already bind-mounted the file).
netns_resolv() {
	printf '%s\n' "$@" > "$NETNS_ETC/resolv.conf"
}

# netns_exec COMMAND...: in the laptop.  Started with & this is a subshell
# around ip: to signal the command later, run ip netns exec "$NS_LAP" ... &
# directly (or a netns_wrapper), so that $! is the command's pid.
netns_exec() {
	ip netns exec "$NS_LAP" "$@"
}

# netns_wrapper FILE BINARY [LAP|A|B]: an executable FILE that runs BINARY
# with its arguments in that namespace (the laptop by default), for the
# harness's command variables: ROAMSMTPD=$T/d netns_wrapper ..., or
# PY=$T/py-a start_upstream ... for an upstream behind router A.  ip execs,
# so the pid the harness records is BINARY's.
netns_wrapper() {
	local ns=$NS_LAP
	case ${3:-LAP} in
	LAP) ;;
	A) ns=$NS_A ;;
	B) ns=$NS_B ;;
	*) _netns_fail "no namespace '$3'" ;;
	esac
	printf '#!/bin/bash\nexec ip netns exec %q %q "$@"\n' "$ns" "$2" > "$1"
	chmod 755 "$1"
}

# netns_in NS-NAME COMMAND...: run a command in a router namespace.
netns_in() {
	local ns
	case $1 in A) ns=$NS_A ;; B) ns=$NS_B ;; LAP) ns=$NS_LAP ;;
	*) _netns_fail "no '$1'" ;; esac
	shift
	ip netns exec "$ns" "$@"
}
