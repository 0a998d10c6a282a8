#!/bin/bash
# netwatch_netlink_netns: the netlink backend of the network watcher,
# alone, in a laptop namespace whose network the test changes under it
# (tests/lib/netns.sh: router A "home", router B "cafe").  After each change
# the snapshot it emits must say where the laptop is: gateways with their
# MACs once traffic taught them to the kernel, addresses, DNS search
# domains, connectivity — and nothing twice.
#
# The backend runs in tests/lib/netwatch_probe.c, which prints each
# snapshot as a line of JSON and exits 1 if a snapshot repeats the one
# before or does not survive netfacts_from_json().  NETWATCH_PROBE names a
# built probe; otherwise it is compiled here from the sources, with ASan
# and UBSan (NETWATCH_PROBE_CFLAGS overrides the flags).
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/netns.sh"

SRC=$TESTS_DIR/..
PROBE=${NETWATCH_PROBE:-}
PROBE_OUT=$T/probe.out
PROBE_ERR=$T/probe.err
PROBE_PID=

build_probe() {
	local cflags=${NETWATCH_PROBE_CFLAGS:--g -fsanitize=address,undefined \
	    -fno-omit-frame-pointer -fno-sanitize-recover=undefined}
	PROBE=$T/netwatch_probe
	# shellcheck disable=SC2086
	cc -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
	    $cflags -I"$SRC/daemon" -I"$SRC/profiles" \
	    "$LIB/netwatch_probe.c" "$SRC/daemon/netwatch_netlink.c" \
	    "$SRC/profiles/netfacts.c" "$SRC/daemon/log.c" -o "$PROBE" \
	    $(pkg-config --cflags --libs libevent jansson) \
	    > "$T/probe-build.log" 2>&1 || {
		_show "probe build" "$T/probe-build.log"
		fail "cannot build the netwatch probe"
	}
}

# What the checks below look at: the last snapshot, as j, with
#   gws(j)   [(addr, mac, ifname)...] in the order emitted
#   addrs(j) {"addr/prefixlen", ...}
PYFACTS='
import json, sys
def gws(j):
    return [(g["addr"], g["mac"], g["ifname"]) for g in j["gateways"]]
def addrs(j):
    return {"%s/%d" % (a["addr"], a["prefixlen"]) for a in j["addresses"]}
'

# _facts_match PYEXPR: 0 when it holds, 1 when not (yet), 3 when it
# cannot be evaluated (a broken check or snapshot: no use waiting).
_facts_match() {
	local last
	last=$(tail -n 1 "$PROBE_OUT" 2>/dev/null)
	[ -n "$last" ] || return 1
	printf '%s\n' "$last" | "$PY" -c "$PYFACTS
j = json.loads(sys.stdin.read())
try:
    ok = eval('(' + sys.argv[1] + ')')
except Exception as e:
    print('cannot check', repr(sys.argv[1]), 'on', j, ':', e, file=sys.stderr)
    sys.exit(3)
sys.exit(0 if ok else 1)" "$1"
}

# wait_facts WHAT PYEXPR: until the last snapshot satisfies PYEXPR.
wait_facts() {
	local end rc
	end=$(($(date +%s) + WAIT_DEADLINE))
	for (( ; ; )); do
		rc=0
		_facts_match "$2" || rc=$?
		[ "$rc" -ne 0 ] || return 0
		[ "$rc" -ne 3 ] || fail "cannot check the snapshot for $1"
		if ! kill -0 "$PROBE_PID" 2>/dev/null; then
			_show "probe stderr" "$PROBE_ERR"
			fail "the probe died waiting for $1"
		fi
		if [ "$(date +%s)" -ge "$end" ]; then
			_show "snapshots" "$PROBE_OUT"
			_show "probe stderr" "$PROBE_ERR"
			fail "no snapshot with $1 within ${WAIT_DEADLINE}s" \
			    "(wanted: $2)"
		fi
		sleep 0.05
	done
}

snapshots() {
	local n
	n=$(wc -l < "$PROBE_OUT")
	echo "$n"
}

A4="('$GW4_A', '%s', 'lana')"
A6="('$GW6_A', '%s', 'lana')"
B4="('$GW4_B', '%s', 'lanb')"
B6="('$GW6_B', '%s', 'lanb')"
# gw_list A|B MAC: the gateways expected on that network.
gw_list() {
	local m=$2
	case $1 in
	A) printf "[$A4, $A6]" "$m" "$m" ;;
	B) printf "[$B4, $B6]" "$m" "$m" ;;
	esac
}
ADDRS_A="{'10.1.0.2/24', 'fd0a::2/64'}"
ADDRS_B="{'10.2.0.2/24', 'fd0b::2/64'}"

[ -n "$PROBE" ] || build_probe
netns_create
netns_resolv "nameserver 10.1.0.1" "search home.example"

step "nowhere: both links down"
# Not through a function: $! must be the probe itself (ip execs it).
ip netns exec "$NS_LAP" "$PROBE" -v > "$PROBE_OUT" 2> "$PROBE_ERR" &
PROBE_PID=$!
PIDS+=("$PROBE_PID")
wait_facts "the first snapshot" 'True'
wait_facts "nothing but the search domain" \
    "j['backend'] == 'netlink' and j['connectivity'] == 'none' and
     gws(j) == [] and addrs(j) == set() and j['dns'] == ['home.example'] and
     j['connections'] == [] and j['ssid'] == ''"

step "home: on A's network; A's MAC unknown until traffic"
netns_join A
wait_facts "A's gateways" \
    "j['connectivity'] == 'full' and gws(j) == $(gw_list A '') and
     addrs(j) == $ADDRS_A"
netns_traffic A
wait_facts "A's MAC" "gws(j) == $(gw_list A "$MAC_A")"

step "a route that is not the default changes nothing; resolv.conf does"
n=$(snapshots)
netns_exec ip route add 192.0.2.0/24 via "$GW4_A"
netns_exec ip -6 route add 2001:db8::/32 via "$GW6_A"
# The last search line wins; a trailing dot is the root, not part of it.
netns_resolv "search old.example" "nameserver 10.1.0.1" \
    "search office.example corp.example."
wait_facts "the new search list" \
    "j['dns'] == ['office.example', 'corp.example'] and
     gws(j) == $(gw_list A "$MAC_A")"
assert_eq $((n + 1)) "$(snapshots)" "snapshots after one real change"
netns_resolv "domain cafe.example"
wait_facts "the domain line" "j['dns'] == ['cafe.example']"

step "cafe: A's link off, on B's network"
netns_ifdown A
netns_join B
wait_facts "B's gateways and only B's addresses" \
    "j['connectivity'] == 'full' and gws(j) == $(gw_list B '') and
     addrs(j) == $ADDRS_B"
netns_traffic B
wait_facts "B's MAC" "gws(j) == $(gw_list B "$MAC_B")"

step "unplugged: B's end goes down; the kernel keeps a dead default route"
netns_unplug B
wait_facts "no network" \
    "j['connectivity'] == 'none' and gws(j) == [] and addrs(j) == set()"
assert_match 'linkdown' "$(netns_exec ip route show default)" \
    "the kernel's default route while unplugged"

step "plugged in again"
netns_plug B
wait_facts "B's gateways back" \
    "j['connectivity'] == 'full' and [g[0] for g in gws(j)] ==
     ['$GW4_B', '$GW6_B'] and addrs(j) == $ADDRS_B"
netns_traffic B
wait_facts "B's MAC again" "gws(j) == $(gw_list B "$MAC_B")"

step "back home by the default route alone, B's link still up"
netns_join A
wait_facts "A's gateways" \
    "j['connectivity'] == 'full' and [g[0] for g in gws(j)] ==
     ['$GW4_A', '$GW6_A'] and addrs(j) == $ADDRS_A | $ADDRS_B"
netns_traffic A
wait_facts "A's MAC" "gws(j) == $(gw_list A "$MAC_A")"

step "the default route goes, the links stay"
netns_leave
wait_facts "no gateway, addresses kept" \
    "j['connectivity'] == 'none' and gws(j) == [] and
     addrs(j) == $ADDRS_A | $ADDRS_B"

step "each change was seen: A without then with its MAC"
"$PY" - "$PROBE_OUT" "$MAC_A" <<'EOF' || fail "snapshot history"
import json, sys
snaps = [json.loads(l) for l in open(sys.argv[1])]
macs = [[g["mac"] for g in s["gateways"]] for s in snaps
        if [g["addr"] for g in s["gateways"]] == ["10.1.0.1", "fd0a::1"]]
i = macs.index(["", ""])
assert macs[i + 1] == [sys.argv[2]] * 2, macs
EOF

step "the probe stops cleanly"
kill "$PROBE_PID"
rc=0
wait "$PROBE_PID" || rc=$?
assert_eq 0 "$rc" "probe exit status (1: a repeated or invalid snapshot)"
assert_no_grep 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$PROBE_ERR" \
    "sanitizer report from the probe"
pass
