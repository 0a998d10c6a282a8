#!/bin/bash
# check_config_network_keys: "roamsmtpd --check-config" on the keys that
# follow the network.  Each bad case exits non-zero and names FILE:LINE,
# [group] and key: a gateway MAC and a BSSID that are not MAC addresses, a
# subnet that is not a prefix, a connectivity that is not a state, a
# fallback that names no profile, a circle of fallbacks (named with its
# whole chain), and in the daemon's file a network-backend and a
# metered-max-size it cannot use.  A good set with every [match] key, value
# lists and a fallback chain passes.
. "$(dirname "$0")/../lib/common.sh"

# case_dir NAME: a folder with a good roamsmtp.conf and a good profile
# home.conf whose lines are numbered below; a case then spoils one thing.
#	roamsmtp.conf: 1 [daemon]  2 listen  3 state-dir  4 runtime-dir
#	               5 profiles-dir  6 network-backend  7 metered-max-size
#	home.conf:     1 [match]  2 ssid  3 gateway-mac  4 subnet  5 priority
#	               6 (blank)  7 [upstream]  8 host  9 port  10 tls
#	               11 auth
case_dir() {
	local d=$T/$1
	mkdir -p "$d/profiles"
	printf '%s\n' '[daemon]' 'listen = 127.0.0.1:2525' \
	    "state-dir = $d/state" "runtime-dir = $d/run" \
	    "profiles-dir = $d/profiles" 'network-backend = none' \
	    'metered-max-size = 1048576' > "$d/roamsmtp.conf"
	printf '%s\n' '[match]' 'ssid = HomeWifi; HomeWifi-5G' \
	    'gateway-mac = aa:bb:cc:00:00:01' 'subnet = 192.168.1.0/24' \
	    'priority = 5' '' '[upstream]' 'host = 127.0.0.1' 'port = 2587' \
	    'tls = none' 'auth = none' > "$d/profiles/home.conf"
	echo "$d"
}

# add_profile DIR NAME LINE...: another profile, one line an argument.
add_profile() {
	local d=$1 name=$2
	shift 2
	printf '%s\n' "$@" > "$d/profiles/$name.conf"
}

# check NAME: run --check-config on case NAME (CLIENT_OUT/CLIENT_RC as for
# a client); under ASan/UBSan it must not report anything either.
check() {
	run_client "check-$1" "$ROAMSMTPD" --check-config -c "$T/$1/roamsmtp.conf"
	assert_no_grep 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$CLIENT_OUT" \
	    "sanitizer report from --check-config (case $1)"
}

# expect_error NAME FILE LINE GROUP KEY [WORDS]: a non-zero exit, and a
# line starting "FILE:LINE: [GROUP] KEY:" (containing WORDS, when given).
expect_error() {
	local want="$2:$3: [$4] $5:"
	[ "$CLIENT_RC" -ne 0 ] || {
		_show "check-config output" "$CLIENT_OUT"
		fail "--check-config passed case $1"
	}
	grep -F -- "$want" "$CLIENT_OUT" | grep -qF -- "${6:-}" || {
		_show "check-config output" "$CLIENT_OUT"
		fail "case $1: no '$want${6:+ ... $6}' in the output"
	}
}

step "a good configuration with every network key passes"
d=$(case_dir good)
add_profile "$d" office '[match]' 'connection = Office; Office 2' \
    'uuid = 0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0' 'bssid = AA-BB-CC-00-00-02' \
    'dns-domain = corp.example.' 'vpn = Office-VPN' \
    'subnet = 10.20.0.0/16; 2001:db8:20::/48' 'connectivity = full; limited' \
    '' '[upstream]' 'host = 127.0.0.1' 'port = 2588' 'tls = none' \
    'auth = none' 'fallback = office-465'
add_profile "$d" office-465 '[upstream]' 'host = 127.0.0.1' 'port = 2465' \
    'tls = none' 'auth = none' 'fallback = anywhere'
add_profile "$d" anywhere '[match]' 'default = true' '' '[upstream]' \
    'host = 127.0.0.1' 'port = 2525' 'tls = none' 'auth = none'
add_profile "$d" portal '[match]' 'vpn = yes' 'connectivity = portal' '' \
    '[upstream]' 'host = 127.0.0.1' 'port = 2589' 'tls = none' 'auth = none'
check good
client_ok

step "a gateway MAC that is not a MAC address"
d=$(case_dir badmac)
sed -i 's/^gateway-mac = .*/gateway-mac = aa:bb:cc:dd:ee/' "$d/profiles/home.conf"
check badmac
expect_error badmac "$d/profiles/home.conf" 3 match gateway-mac "aa:bb:cc:dd:ee"

step "a BSSID, second in its list, that is not a MAC address"
d=$(case_dir badbssid)
sed -i 's/^gateway-mac = .*/bssid = aa:bb:cc:00:00:09; aa:bb:cc:00:00:zz/' \
    "$d/profiles/home.conf"
check badbssid
expect_error badbssid "$d/profiles/home.conf" 3 match bssid "aa:bb:cc:00:00:zz"

step "a subnet that is not a prefix"
d=$(case_dir badsubnet)
sed -i 's|^subnet = .*|subnet = 192.168.1.0/24; 10.0.0.0/33|' "$d/profiles/home.conf"
check badsubnet
expect_error badsubnet "$d/profiles/home.conf" 4 match subnet "10.0.0.0/33"

step "an IPv6 subnet that is not a prefix"
d=$(case_dir badsubnet6)
sed -i 's|^subnet = .*|subnet = 2001:db8::/129|' "$d/profiles/home.conf"
check badsubnet6
expect_error badsubnet6 "$d/profiles/home.conf" 4 match subnet "2001:db8::/129"

step "a connectivity that is not a state"
d=$(case_dir badconn)
sed -i 's/^priority = .*/connectivity = sometimes/' "$d/profiles/home.conf"
check badconn
expect_error badconn "$d/profiles/home.conf" 5 match connectivity "sometimes"

step "a fallback that names no profile"
d=$(case_dir nofallback)
echo 'fallback = nosuch' >> "$d/profiles/home.conf"
check nofallback
expect_error nofallback "$d/profiles/home.conf" 12 upstream fallback "nosuch"

step "a circle of fallbacks: home -> relay -> home"
d=$(case_dir cycle)
echo 'fallback = relay' >> "$d/profiles/home.conf"
add_profile "$d" relay '[upstream]' 'host = 127.0.0.1' 'port = 25' \
    'tls = none' 'auth = none' 'fallback = home'
check cycle
[ "$CLIENT_RC" -ne 0 ] || fail "--check-config passed a circle of fallbacks"
# Said once, on either profile's fallback line, with the whole chain.
grep -E -- "^($d/profiles/home\.conf:12|$d/profiles/relay\.conf:6): \[upstream\] fallback:" \
    "$CLIENT_OUT" > "$T/cycle.lines" || {
	_show "check-config output" "$CLIENT_OUT"
	fail "case cycle: no 'home.conf:12' or 'relay.conf:6' [upstream] fallback: line"
}
assert_eq 1 "$(wc -l < "$T/cycle.lines")" "lines about the circle"
assert_grep 'home -> relay -> home|relay -> home -> relay' "$T/cycle.lines" \
    "the whole chain named"

step "a profile that falls back to itself"
d=$(case_dir selfcycle)
echo 'fallback = home' >> "$d/profiles/home.conf"
check selfcycle
expect_error selfcycle "$d/profiles/home.conf" 12 upstream fallback "'home'"

step "a network-backend the daemon does not know"
d=$(case_dir badbackend)
sed -i 's/^network-backend = .*/network-backend = wifi/' "$d/roamsmtp.conf"
check badbackend
expect_error badbackend "$d/roamsmtp.conf" 6 daemon network-backend "wifi"

step "a metered-max-size that is not a size"
d=$(case_dir badmetered)
sed -i 's/^metered-max-size = .*/metered-max-size = big/' "$d/roamsmtp.conf"
check badmetered
expect_error badmetered "$d/roamsmtp.conf" 7 daemon metered-max-size "big"
pass
