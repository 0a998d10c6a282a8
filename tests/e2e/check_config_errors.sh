#!/bin/bash
# check_config_errors: "roamsmtpd --check-config" exits non-zero on a bad
# configuration and names file:line, [group] and key for each problem: an
# unknown key, a bad value (daemon and profile), a listener that is not
# loopback, two default profiles.  A good configuration passes.
. "$(dirname "$0")/../lib/common.sh"

# case_dir NAME: a folder with a good roamsmtp.conf (listen on line 2,
# max-message-size on line 6) and a good profile home.conf (port on line 6);
# the case then spoils one thing.
case_dir() {
	local d=$T/$1
	mkdir -p "$d/profiles"
	printf '%s\n' '[daemon]' 'listen = 127.0.0.1:2525' \
	    "state-dir = $d/state" "runtime-dir = $d/run" \
	    "profiles-dir = $d/profiles" 'max-message-size = 1048576' \
	    > "$d/roamsmtp.conf"
	printf '%s\n' '[match]' 'default = true' '' '[upstream]' \
	    'host = 127.0.0.1' 'port = 2587' 'tls = none' 'auth = none' \
	    > "$d/profiles/home.conf"
	echo "$d"
}

# check NAME: run --check-config on case NAME (CLIENT_OUT/CLIENT_RC as for
# a client); under ASan/UBSan it must not report anything either.
check() {
	run_client "check-$1" "$ROAMSMTPD" --check-config -c "$T/$1/roamsmtp.conf"
	assert_no_grep 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$CLIENT_OUT" \
	    "sanitizer report from --check-config (case $1)"
}

# expect_error NAME FILE LINE GROUP KEY
expect_error() {
	[ "$CLIENT_RC" -ne 0 ] || fail "--check-config passed case $1"
	grep -qF -- "$2:$3: [$4] $5:" "$CLIENT_OUT" || {
		_show "check-config output" "$CLIENT_OUT"
		fail "case $1: no '$2:$3: [$4] $5:' in the output"
	}
}

step "a good configuration passes"
d=$(case_dir good)
check good
client_ok

step "an unknown key"
d=$(case_dir badkey)
echo 'max-sesions = 10' >> "$d/roamsmtp.conf"
check badkey
expect_error badkey "$d/roamsmtp.conf" 7 daemon max-sesions

step "a bad value in the daemon's file"
d=$(case_dir badvalue)
sed -i 's/^max-message-size = .*/max-message-size = lots/' "$d/roamsmtp.conf"
check badvalue
expect_error badvalue "$d/roamsmtp.conf" 6 daemon max-message-size

step "a bad value in a profile"
d=$(case_dir badport)
sed -i 's/^port = .*/port = abc/' "$d/profiles/home.conf"
check badport
expect_error badport "$d/profiles/home.conf" 6 upstream port

step "a listener that is not loopback"
d=$(case_dir public)
sed -i 's/^listen = .*/listen = 0.0.0.0:2525/' "$d/roamsmtp.conf"
check public
expect_error public "$d/roamsmtp.conf" 2 daemon listen

step "two default profiles"
d=$(case_dir twodefaults)
cp "$d/profiles/home.conf" "$d/profiles/work.conf"
check twodefaults
[ "$CLIENT_RC" -ne 0 ] || fail "--check-config passed two default profiles"
grep -qE -- "$d/profiles/(home|work)\.conf:2: \[match\] default:" "$CLIENT_OUT" ||
    fail "no 'FILE:2: [match] default:' for two default profiles"
assert_grep 'home\.conf' "$CLIENT_OUT" "the first default profile named"
assert_grep 'work\.conf' "$CLIENT_OUT" "the second default profile named"
pass
