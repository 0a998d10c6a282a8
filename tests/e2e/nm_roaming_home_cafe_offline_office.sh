#!/bin/bash
# nm_roaming_home_cafe_offline_office: the issue's main scenario, with
# NetworkManager (python-dbusmock on a private system bus) telling roamsmtpd
# where the laptop is.  Home Wi-Fi, then the cafe's Wi-Fi, then offline,
# then the office's wire with its VPN; each place has its own upstream.
# After each change "roamsmtpctl status" shows that place's profile and why;
# mail sent in each place reaches that place's upstream byte for byte, and
# mail written offline leaves through the office's profile once the office
# network is up.  A default profile (an upstream nobody listens on) is
# there to lose to every real match.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/nm_mock.sh"

HOME_UUID=11111111-1111-4111-8111-111111111111
CAFE_UUID=22222222-2222-4222-8222-222222222222
OFFICE_UUID=33333333-3333-4333-8333-333333333333
VPN_UUID=44444444-4444-4444-8444-444444444444

status() {	# EXPR: a field of roamsmtpctl --json status
	ctl --json status 2>> "$T/ctl.err" | json "$1"
}

_status_is() {	# EXPR VALUE
	[ "$(status "$1" 2>/dev/null)" = "$2" ]
}

wait_status() {	# EXPR VALUE
	wait_for "status $1 = $2" _status_is "$1" "$2"
}

profiles_field() {	# NAME FIELD: one field of one profile in "profiles"
	ctl --json profiles 2>> "$T/ctl.err" |
	    json "[p for p in j['profiles'] if p['name'] == '$1'][0]['$2']"
}

send() {	# SUBJECT: a new message, sent; the client must succeed
	make_message "$T/$1.eml" "$1"
	smtplib send --from alice@example.org --to bob@example.net "$T/$1.eml"
	client_ok
}

# counts HOME CAFE OFFICE: what each upstream has accepted so far.
counts() {
	assert_eq "$1 $2 $3" "$(upstream_count home) $(upstream_count cafe) \
$(upstream_count office)" "messages at the home, cafe, office upstreams"
}

up_profile() {	# NAME PORT MATCH-LINE...
	local name=$1 port=$2
	shift 2
	{
		printf '%s\n' '[match]' "$@" ''
		printf '%s\n' '[upstream]' 'host = 127.0.0.1' "port = $port" \
		    'tls = none' 'auth = none'
	} | write_profile "$name"
}

nm_mock_start
for name in home cafe office; do
	start_upstream "$name" "$(free_port)"
done
port_of() {	# NAME: an upstream's port, from its READY line
	awk '/^READY / { print $2 }' "$T/up-$1/stdout"
}
up_profile home "$(port_of home)" 'ssid = HomeWifi' \
    'bssid = aa:bb:cc:00:00:01'
up_profile cafe "$(port_of cafe)" 'ssid = CafeNet; CafeNet-5G'
up_profile office "$(port_of office)" 'vpn = Office-VPN' \
    'dns-domain = corp.example'
up_profile anywhere "$(free_port)" 'default = true'
write_conf "network-backend = networkmanager"

step "started with no network: offline, no profile"
start_daemon
assert_grep 'network=networkmanager' "$DAEMON_LOG" "the backend the daemon says it uses"
wait_status 'j["network"]["connectivity"]' none
assert_eq networkmanager "$(status 'j["network"]["backend"]')" "network.backend"
assert_eq null "$(status 'j["profile"]')" "profile while offline"
assert_match '^offline' "$(status 'j["reason"]')" "reason while offline"

step "home Wi-Fi: the home profile, by SSID and BSSID"
nm wifi --id Home --uuid "$HOME_UUID" --ssid HomeWifi \
    --bssid aa:bb:cc:00:00:01 --addr 192.168.1.23/24 --gw 192.168.1.1 \
    --dns home.lan --primary
nm connectivity full
wait_status 'j["profile"]["name"]' home
assert_eq HomeWifi "$(status 'j["network"]["ssid"]')" "network.ssid"
assert_eq aa:bb:cc:00:00:01 "$(status 'j["network"]["bssid"]')" "network.bssid"
assert_eq 192.168.1.1 "$(status 'j["network"]["gateways"][0]["addr"]')" \
    "network gateway"
assert_eq '["home.lan"]' "$(status 'j["network"]["dns"]')" "network.dns"
assert_eq full "$(status 'j["network"]["connectivity"]')" "connectivity"
reason=$(status 'j["reason"]')
assert_match 'ssid=HomeWifi' "$reason" "reason at home"
assert_match 'bssid=aa:bb:cc:00:00:01' "$reason" "reason at home"
assert_eq null "$(status 'j["manual"]')" "manual at home"
assert_eq null "$(status 'j["profile"]["via"]')" "via at home"
assert_eq 127.0.0.1:"$(port_of home)" "$(status 'j["profile"]["upstream"]')" \
    "the home profile's upstream"
assert_eq true "$(profiles_field home active)" "home active in profiles"
assert_eq 80 "$(profiles_field home score)" "home's score (ssid 32 + bssid 48)"
assert_eq true "$(profiles_field anywhere matches)" "the default matches too"
assert_eq false "$(profiles_field anywhere active)" "the default is not active"
assert_eq false "$(profiles_field cafe matches)" "cafe matches at home"
send "sent at home"
wait_upstream_count home 1
assert_same_bytes "$T/sent at home.eml" "$(upstream_eml home 1)" \
    "message at the home upstream"
assert_eq alice@example.org "$(upstream_env home 1 'j["mail_from"]')" \
    "envelope sender at home"
assert_eq '["bob@example.net"]' "$(upstream_env home 1 'j["rcpt_tos"]')" \
    "envelope recipients at home"
counts 1 0 0

step "the cafe's Wi-Fi: the cafe profile, by its second SSID"
nm down "$HOME_UUID"
nm wifi --id "Cafe Wi-Fi" --uuid "$CAFE_UUID" --ssid CafeNet-5G \
    --bssid 02:ca:fe:00:00:01 --addr 10.9.8.7/24 --gw 10.9.8.1 --primary
wait_status 'j["profile"]["name"]' cafe
assert_eq CafeNet-5G "$(status 'j["network"]["ssid"]')" "network.ssid"
assert_match 'ssid=CafeNet-5G' "$(status 'j["reason"]')" "reason in the cafe"
assert_eq '["Cafe Wi-Fi"]' "$(status '[c["id"] for c in j["network"]["connections"]]')" \
    "the active connections"
assert_eq false "$(profiles_field home matches)" "home matches in the cafe"
send "sent in the cafe"
wait_upstream_count cafe 1
assert_same_bytes "$T/sent in the cafe.eml" "$(upstream_eml cafe 1)" \
    "message at the cafe upstream"
counts 1 1 0

step "offline: no profile; mail is queued, nothing leaves"
nm down --all
nm connectivity none
wait_status 'j["network"]["connectivity"]' none
wait_status 'j["profile"]' null
assert_match '^offline' "$(status 'j["reason"]')" "reason offline"
assert_eq '[]' "$(status 'j["network"]["connections"]')" "connections offline"
send "written offline"
id=$(queued_id)
assert_queue_files "$id"
assert_eq 1 "$(queue_count)" "messages in the queue"
assert_eq queued "$(queue_field "$id" state)" "state of $id"
assert_eq 1 "$(status 'j["queue"]["queued"]')" "status queue.queued"
counts 1 1 0

step "the office: wired, then the VPN, then connectivity"
nm ethernet --id Office --uuid "$OFFICE_UUID" --iface eth0 \
    --addr 10.20.0.5/16 --gw 10.20.0.1 --dns corp.example --primary
nm vpn --id Office-VPN --uuid "$VPN_UUID" --parent "$OFFICE_UUID" \
    --addr 172.16.5.2/24 --dns eu.corp.example
# Still no connectivity: the message stays where it is.
wait_status '[c["id"] for c in j["network"]["connections"] if c["vpn"]]' \
    '["Office-VPN"]'
assert_eq null "$(status 'j["profile"]')" "profile before connectivity"
assert_eq 1 "$(queue_count)" "messages in the queue before connectivity"
nm connectivity full
wait_status 'j["profile"]["name"]' office
reason=$(status 'j["reason"]')
assert_match 'vpn=Office-VPN' "$reason" "reason at the office"
assert_match 'dns-domain=corp.example' "$reason" "reason at the office"
assert_eq Office "$(status '[c["id"] for c in j["network"]["connections"] if c["primary"]][0]')" \
    "the primary connection"

step "the message written offline leaves through the office's profile"
wait_upstream_count office 1
assert_same_bytes "$T/written offline.eml" "$(upstream_eml office 1)" \
    "queued message at the office upstream"
assert_eq alice@example.org "$(upstream_env office 1 'j["mail_from"]')" \
    "envelope sender of the queued message"
assert_eq '["bob@example.net"]' "$(upstream_env office 1 'j["rcpt_tos"]')" \
    "envelope recipients of the queued message"
wait_queue_count 0
assert_queue_files_gone "$id"
counts 1 1 1

step "mail sent at the office goes to the office upstream"
send "sent at the office"
wait_upstream_count office 2
assert_same_bytes "$T/sent at the office.eml" "$(upstream_eml office 2)" \
    "message at the office upstream"
counts 1 1 2
pass
