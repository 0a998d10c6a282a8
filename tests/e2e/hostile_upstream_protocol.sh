#!/bin/bash
# hostile_upstream_protocol: upstreams that break the protocol on purpose
# (tests/lib/hostile_upstream.py), one after the other, the daemon running
# throughout:
#   starttls-inject  replies injected behind "220 go ahead" are thrown away:
#                    the daemon waits for the real replies inside TLS (the
#                    strict server sees no command run ahead) and the
#                    message arrives once, intact;
#   endless          a greeting, then an EHLO reply, that never ends: the
#                    daemon gives up after a bounded number of lines;
#   starttls-fail    STARTTLS offered, then refused (454), answered with
#                    garbage instead of TLS, or the line dropped: never a
#                    fall back to plaintext (no AUTH, no MAIL in the clear);
#   auth-plaintext   AUTH offered without TLS: a profile that would send
#                    the password in the clear is refused when loaded
#                    (unless allow-plaintext-auth = yes), one that asks for
#                    STARTTLS does not get it; the password is not sent.
# Each failure leaves the message queued (250 queued as ID) with a reason,
# and the daemon keeps serving: its memory stays bounded.
. "$(dirname "$0")/../lib/common.sh"

RSS_MAX_KB=$((64 * 1024))
# ASan's quarantine would count as the daemon's memory (see
# large_message_30mb.sh); other builds ignore this.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1

# start_hostile NAME PORT ARGS...: hostile_upstream.py, its files where
# start_upstream puts upstream.py's (so upstream_count & co. work).
start_hostile() {
	local name=$1 port=$2 dir=$T/up-$1 pid
	shift 2
	mkdir -p "$dir"
	: > "$dir/stdout"
	"$PY" "$LIB/hostile_upstream.py" --port "$port" --outdir "$dir/msgs" \
	    --log "$dir/log" "$@" > "$dir/stdout" 2>> "$dir/stderr" &
	pid=$!
	PIDS+=("$pid")
	printf -v "UPSTREAM_PID_$name" '%s' "$pid"
	UPSTREAMS+=("$name")
	wait_for "READY from upstream $name" _upstream_ready "$name" "$pid"
}

# use_profile PORT TLS AUTH: the only profile, reloaded.
use_profile() {
	rm -f "$PROFILES"/*.conf
	{
		printf '%s\n' '[match]' 'default = true' '' '[upstream]' \
		    'host = 127.0.0.1' "port = $1" "tls = $2" "auth = $3" \
		    "ca-file = $T/certs/ca.crt"
		[ "$3" = none ] || printf '%s\n' 'user = alice' \
		    "password-file = $T/pass"
	} > "$PROFILES/home.conf"
	ctl_ok reload
}

# queued_after NAME: send a message; it must be queued, stay queued after
# a retry with a reason, and the upstream must have no message.
faults=0
queued_after() {
	local name=$1 id
	make_message "$T/$name.eml" "hostile $name"
	smtplib send --from alice@example.org --to bob@example.net "$T/$name.eml"
	client_ok
	assert_grep '^DATA 250 2\.0\.0 Ok: queued as [0-9a-f]{16}$' "$CLIENT_OUT" \
	    "reply with the $name upstream"
	id=$(queued_id)
	ctl_ok retry "$id"
	wait_queue_error "$id"
	assert_eq queued "$(queue_field "$id" state)" "state of $id ($name)"
	printf '   last_error: %s\n' "$(queue_field "$id" last_error)"
	assert_eq 0 "$(upstream_count "$name")" "messages at the $name upstream"
	assert_no_grep 'PLAINTEXT-(AUTH|MAIL)' "$(upstream_log "$name")" \
	    "a downgrade to plaintext at the $name upstream"
	ctl_ok delete "$id"
	stop_upstream "$name"
	faults=$((faults + 1))
}

make_certs "$T/certs"
write_secret "$T/pass" Hostile-pw-3
start_daemon

step "STARTTLS response injection: ignored, the message goes through once"
up=$(free_port)
start_hostile inject "$up" --mode starttls-inject \
    --cert "$T/certs/server.crt" --key "$T/certs/server.key"
use_profile "$up" starttls none
make_message "$T/inject.eml" "hostile inject"
smtplib send --from alice@example.org --to bob@example.net "$T/inject.eml"
client_ok
assert_grep '^DATA 250 2\.0\.0 accepted as 0001' "$CLIENT_OUT" "reply through TLS"
assert_grep 'INJECTED' "$(upstream_log inject)" "the injection was made"
assert_grep 'TLS starttls' "$(upstream_log inject)" "TLS after the injection"
assert_no_grep 'VIOLATION' "$(upstream_log inject)" \
    "a command sent on an injected reply"
assert_eq 1 "$(upstream_count inject)" "messages at the upstream"
assert_same_bytes "$T/inject.eml" "$(upstream_eml inject 1)" "relayed message"
stop_upstream inject
faults=$((faults + 1))

for where in greeting ehlo; do
	step "a $where that never ends"
	up=$(free_port)
	start_hostile "endless_$where" "$up" --mode endless --where "$where"
	use_profile "$up" none none
	queued_after "endless_$where"
	lines=$(sed -nE 's/.*ENDLESS lines=([0-9]+).*/\1/p' \
	    "$(upstream_log "endless_$where")" | sort -n | tail -n 1)
	printf '   the upstream wrote %s lines before the daemon hung up\n' "$lines"
done

for how in 454 garbage close; do
	step "STARTTLS offered, then $how"
	up=$(free_port)
	start_hostile "starttls_$how" "$up" --mode starttls-fail --how "$how"
	use_profile "$up" starttls plain
	queued_after "starttls_$how"
done

step "AUTH offered without TLS: no password in the clear"
up=$(free_port)
start_hostile auth_plain "$up" --mode auth-plaintext
# A profile for plaintext AUTH is refused when it is loaded...
use_profile "$up" starttls plain
sed -i 's/^tls = starttls$/tls = none/' "$PROFILES/home.conf"
ctl --json reload > "$T/reload.out" 2>&1 || true
assert_grep 'allow-plaintext-auth' "$T/reload.out" "reload of a plaintext-AUTH profile"
# ...and one that asks for STARTTLS does not get it from this server.
use_profile "$up" starttls plain
queued_after auth_plain

step "the daemon kept serving, memory bounded, no secret in the log"
ctl_ok status
assert_no_grep 'Hostile-pw-3' "$DAEMON_LOG" "password in the daemon log"
hwm=$(daemon_vmhwm_kb)
[ "$hwm" -le "$RSS_MAX_KB" ] || fail "peak RSS ${hwm} KiB over ${RSS_MAX_KB} KiB"
printf 'FIGURES hostile_upstream faults=%s survived=%s vmhwm_kb=%s\n' \
    "$faults" "$faults" "$hwm"
pass
