#!/bin/bash
# manual_choice_until_auto: "roamsmtpctl use PROFILE" wins over the
# network until "use auto": at home the home profile is chosen; the user
# picks "relay" (a profile with no [match] keys, chosen only by hand) and
# mail goes to the relay's upstream, still after the laptop moves to the
# cafe; a name that is no profile is refused and changes nothing; "use
# auto" gives the choice back to the network (the cafe's profile).
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/nm_mock.sh"

HOME_UUID=11111111-1111-4111-8111-111111111111
CAFE_UUID=22222222-2222-4222-8222-222222222222

status() {	# EXPR: a field of roamsmtpctl --json status
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}

_status_is() {	# EXPR VALUE
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

wait_status() {	# EXPR VALUE
	wait_for "status $1 = $2" _status_is "$1" "$2"
}

profiles_json() {	# EXPR: a field of roamsmtpctl --json profiles
	ctl --json profiles 2>> "$T/ctl.err" | json "$1"
}

send() {	# SUBJECT
	make_message "$T/$1.eml" "$1"
	smtplib send --from alice@example.org --to bob@example.net "$T/$1.eml"
	client_ok
}

counts() {	# HOME CAFE RELAY
	assert_eq "$1 $2 $3" "$(upstream_count home) $(upstream_count cafe) \
$(upstream_count relay)" "messages at the home, cafe, relay upstreams"
}

up_profile() {	# NAME PORT [MATCH-LINE...]
	local name=$1 port=$2
	shift 2
	{
		[ $# -eq 0 ] || printf '%s\n' '[match]' "$@" ''
		printf '%s\n' '[upstream]' 'host = 127.0.0.1' "port = $port" \
		    'tls = none' 'auth = none'
	} | write_profile "$name"
}

port_of() {	# NAME: an upstream's port, from its READY line
	awk '/^READY / { print $2 }' "$T/up-$1/stdout"
}

nm_mock_start
for name in home cafe relay; do
	start_upstream "$name" "$(free_port)"
done
up_profile home "$(port_of home)" 'ssid = HomeWifi'
up_profile cafe "$(port_of cafe)" 'ssid = CafeNet'
up_profile relay "$(port_of relay)"
write_conf "network-backend = networkmanager"
start_daemon
assert_grep 'relay' "$DAEMON_LOG" "a word about the profile chosen only by hand"

step "at home: chosen automatically"
nm wifi --id Home --uuid "$HOME_UUID" --ssid HomeWifi \
    --bssid aa:bb:cc:00:00:01 --addr 192.168.1.23/24 --gw 192.168.1.1 --primary
nm connectivity full
wait_status 'j["profile"]["name"]' home
assert_eq null "$(status 'j["manual"]')" "manual before use"
assert_eq false "$(profiles_json '[p for p in j["profiles"] if p["name"] == "relay"][0]["matches"]')" \
    "relay matches a network"
send "home, automatic"
wait_upstream_count home 1
counts 1 0 0

step "use relay: the manual choice wins over the network"
ctl_ok use relay
assert_eq relay "$(json 'j["active"]' < "$T/ctl-use.out")" "use's reply: active"
assert_eq relay "$(json 'j["manual"]' < "$T/ctl-use.out")" "use's reply: manual"
assert_eq relay "$(status 'j["profile"]["name"]')" "profile after use relay"
assert_eq relay "$(status 'j["manual"]')" "manual after use relay"
assert_match 'manual' "$(status 'j["reason"]')" "reason after use relay"
assert_eq relay "$(profiles_json 'j["active"]')" "profiles: active"
assert_eq relay "$(profiles_json 'j["manual"]')" "profiles: manual"
assert_eq '["relay"]' "$(profiles_json '[p["name"] for p in j["profiles"] if p["active"]]')" \
    "profiles marked active"
send "home, manual relay"
wait_upstream_count relay 1
assert_same_bytes "$T/home, manual relay.eml" "$(upstream_eml relay 1)" \
    "message at the relay upstream"
counts 1 0 1

step "the laptop moves to the cafe: still the manual choice"
nm down "$HOME_UUID"
nm wifi --id Cafe --uuid "$CAFE_UUID" --ssid CafeNet \
    --bssid 02:ca:fe:00:00:01 --addr 10.9.8.7/24 --gw 10.9.8.1 --primary
wait_status 'j["network"]["ssid"]' CafeNet
assert_eq relay "$(status 'j["profile"]["name"]')" "profile in the cafe, manual"
assert_eq relay "$(status 'j["manual"]')" "manual in the cafe"
assert_eq true "$(profiles_json '[p for p in j["profiles"] if p["name"] == "cafe"][0]["matches"]')" \
    "cafe matches in the cafe"
send "cafe, manual relay"
wait_upstream_count relay 2
assert_same_bytes "$T/cafe, manual relay.eml" "$(upstream_eml relay 2)" \
    "message at the relay upstream"
counts 1 0 2

step "use with a name that is no profile: refused, nothing changes"
rc=0
ctl use nosuch > "$T/use-nosuch.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of use nosuch"
assert_grep 'nosuch' "$T/use-nosuch.out" "the refusal names the profile"
assert_eq relay "$(status 'j["manual"]')" "manual after use nosuch"
assert_eq relay "$(status 'j["profile"]["name"]')" "profile after use nosuch"

step "use auto: the network chooses again"
ctl_ok use auto
assert_eq cafe "$(json 'j["active"]' < "$T/ctl-use.out")" "use auto's reply: active"
assert_eq null "$(json 'j["manual"]' < "$T/ctl-use.out")" "use auto's reply: manual"
assert_eq cafe "$(status 'j["profile"]["name"]')" "profile after use auto"
assert_eq null "$(status 'j["manual"]')" "manual after use auto"
assert_match 'ssid=CafeNet' "$(status 'j["reason"]')" "reason after use auto"
send "cafe, automatic"
wait_upstream_count cafe 1
assert_same_bytes "$T/cafe, automatic.eml" "$(upstream_eml cafe 1)" \
    "message at the cafe upstream"
counts 1 1 2

step "and it follows the network again: home"
nm down "$CAFE_UUID"
nm wifi --id Home --uuid "$HOME_UUID" --ssid HomeWifi \
    --bssid aa:bb:cc:00:00:01 --addr 192.168.1.23/24 --gw 192.168.1.1 --primary
wait_status 'j["profile"]["name"]' home
send "home again"
wait_upstream_count home 2
assert_same_bytes "$T/home again.eml" "$(upstream_eml home 2)" \
    "message at the home upstream"
counts 2 1 2
pass
