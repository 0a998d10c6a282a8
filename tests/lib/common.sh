# common.sh - the harness every end-to-end scenario sources first.
# shellcheck shell=bash
#
# A scenario runs the real roamsmtpd against real peers (aiosmtpd upstreams,
# swaks, curl, msmtp, smtplib) inside its own temporary folder with its own
# ports, so that ctest may run several at once.  Everything it starts is
# killed on exit; when it fails, the daemon's and the upstreams' logs are
# printed.  Nothing waits a fixed time: every wait polls for its event until
# a deadline, and the deadline only turns a hang into a failure.
#
# Environment (set by tests/CMakeLists.txt): ROAMSMTPD, ROAMSMTPCTL,
# TESTS_DIR, TEST_TMPDIR.  KEEP_TMP=1 keeps the temporary folder of a test
# that passed (a failed one's is always kept).

set -euo pipefail

TESTS_DIR=${TESTS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ROAMSMTPD=${ROAMSMTPD:-$TESTS_DIR/../build/daemon/roamsmtpd}
ROAMSMTPCTL=${ROAMSMTPCTL:-$TESTS_DIR/../build/daemon/roamsmtpctl}
TEST_TMPDIR=${TEST_TMPDIR:-${TMPDIR:-/tmp}/roamsmtp-e2e}
PY=/usr/bin/python3	# Debian's Python, the one that has aiosmtpd
LIB=$TESTS_DIR/lib
# How long a wait may last before it counts as a hang (seconds).
WAIT_DEADLINE=${WAIT_DEADLINE:-60}

TEST_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
mkdir -p "$TEST_TMPDIR/$TEST_NAME"
T=$(mktemp -d "$TEST_TMPDIR/$TEST_NAME/run.XXXXXX")
CONF=$T/roamsmtp.conf
PROFILES=$T/profiles
QUEUE_DIR=$T/state/queue
DAEMON_LOG=$T/daemon.log
# A Unix socket path holds at most 107 bytes: keep the runtime dir short
# when the build folder is deep.
if [ ${#T} -le 70 ]; then
	RUN_DIR=$T/run
else
	RUN_DIR=$(mktemp -d /tmp/roamsmtp-rt.XXXXXX)
fi
DAEMON_PID=
DAEMON_PORT=
PIDS=()			# every background process this test started
UPSTREAMS=()		# names of the upstreams started
CLIENT_N=0
CLIENT_OUT=		# transcript of the last client run
CLIENT_RC=0		# and its exit status

. "$LIB/certs.sh"

step() {
	printf '== %s\n' "$*"
}

fail() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

# ------------------------------------------------------------------ cleanup

_show() {
	local title=$1 file=$2
	[ -s "$file" ] || return 0
	printf '\n----- %s (%s) -----\n' "$title" "$file" >&2
	tail -n 200 "$file" >&2
}

_stop_pid() {
	local pid=$1 _
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? pid name
	set +e
	trap - EXIT ERR
	# A scenario that ends without reaching pass() did not prove anything.
	if [ "$rc" -eq 0 ] && [ -z "$PASSED" ]; then
		printf 'FAIL: %s: ended without reaching pass\n' "$TEST_NAME" >&2
		rc=1
	fi
	if [ "$rc" -ne 0 ]; then
		_show "roamsmtpd log" "$DAEMON_LOG"
		for name in "${UPSTREAMS[@]}"; do
			_show "upstream $name log" "$T/up-$name/log"
			_show "upstream $name stderr" "$T/up-$name/stderr"
		done
		[ -n "$CLIENT_OUT" ] && _show "last client" "$CLIENT_OUT"
		_show "roamsmtpctl errors" "$T/ctl.err"
		printf '\nkept for inspection: %s\n' "$T" >&2
	fi
	for pid in "${PIDS[@]}"; do
		_stop_pid "$pid"
	done
	[ "$RUN_DIR" = "$T/run" ] || rm -rf "$RUN_DIR"
	[ "$rc" -ne 0 ] || [ -n "${KEEP_TMP:-}" ] || rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

# A command that fails outside an assertion ends the test through set -e;
# say which one, or the failure would be silent.
_on_err() {
	printf 'FAIL: %s: %s:%s: "%s" exited with status %s\n' "$TEST_NAME" \
	    "$(basename "${BASH_SOURCE[1]}")" "${BASH_LINENO[0]}" "$BASH_COMMAND" "$1" >&2
}
set -E
trap '_on_err $?' ERR

# ------------------------------------------------------------------ waiting

# wait_for WHAT COMMAND...: run COMMAND until it succeeds; fail after the
# deadline naming WHAT.
wait_for() {
	local what=$1 end
	shift
	end=$(($(date +%s) + WAIT_DEADLINE))
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] ||
		    fail "no $what within ${WAIT_DEADLINE}s"
		sleep 0.05
	done
}

# free_port: a TCP port on 127.0.0.1 that the kernel just handed out.
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ------------------------------------------------------------------ asserts

assert_eq() {	# EXPECTED GOT WHAT
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

assert_match() {	# EXTENDED-REGEX STRING WHAT
	printf '%s\n' "$2" | grep -Eq -- "$1" ||
	    fail "$3: '$2' does not match /$1/"
}

assert_grep() {	# EXTENDED-REGEX FILE WHAT
	grep -Eq -- "$1" "$2" || {
		_show "$(basename "$2")" "$2"
		fail "$3: no line matching /$1/ in $2"
	}
}

assert_no_grep() {	# EXTENDED-REGEX FILE WHAT
	! grep -Eq -- "$1" "$2" || {
		_show "$(basename "$2")" "$2"
		fail "$3: unexpected line matching /$1/ in $2"
	}
}

# assert_same_bytes EXPECTED-FILE GOT-FILE WHAT: byte for byte.
assert_same_bytes() {
	cmp -s "$1" "$2" && return 0
	printf 'expected %s bytes, got %s bytes; first differences:\n' \
	    "$(stat -c %s "$1")" "$(stat -c %s "$2")" >&2
	cmp -l "$1" "$2" 2>&1 | head -n 5 >&2 || true
	fail "$3: $2 differs from $1"
}

# json EXPR: evaluate a Python expression on the JSON document on stdin
# (bound to j); strings print bare, null as "null", the rest as JSON.
json() {
	"$PY" -c '
import json, sys
j = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# ------------------------------------------------------------------ daemon

# write_conf [LINE...]: the daemon's config, confined to the temp folder;
# extra [daemon] lines may follow.
write_conf() {
	[ -n "$DAEMON_PORT" ] || DAEMON_PORT=$(free_port)
	mkdir -p "$PROFILES"
	{
		printf '%s\n' '[daemon]' "listen = 127.0.0.1:$DAEMON_PORT" \
		    "state-dir = $T/state" "runtime-dir = $RUN_DIR" \
		    "profiles-dir = $PROFILES"
		# The machine's own network must not decide a test that is
		# not about it (a CI box without a default route is
		# "offline"): no watcher unless the test asks for one.
		case " $* " in
		*network-backend*) ;;
		*) printf '%s\n' 'network-backend = none' ;;
		esac
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} > "$CONF"
}

# write_profile NAME: a profile from standard input.
write_profile() {
	mkdir -p "$PROFILES"
	cat > "$PROFILES/$1.conf"
}

# write_secret FILE VALUE: a password file, mode 0600.
write_secret() {
	(umask 077; printf '%s\n' "$2" > "$1")
	chmod 600 "$1"
}

ctl() {
	"$ROAMSMTPCTL" -c "$CONF" "$@"
}

# ctl_ok ARGS...: roamsmtpctl --json ARGS must succeed and answer "ok": true.
ctl_ok() {
	local out=$T/ctl-$1.out rc=0
	ctl --json "$@" > "$out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] || [ "$(json 'j["ok"]' < "$out" 2>/dev/null)" != true ]; then
		_show "roamsmtpctl $*" "$out"
		fail "roamsmtpctl $* exited with status $rc"
	fi
}

_daemon_ready() {
	kill -0 "$DAEMON_PID" 2>/dev/null || {
		wait "$DAEMON_PID" || true
		fail "roamsmtpd exited while starting"
	}
	ctl status >/dev/null 2>&1
}

start_daemon() {
	[ -f "$CONF" ] || write_conf
	printf '=== roamsmtpd starts\n' >> "$DAEMON_LOG"
	"$ROAMSMTPD" -f -v -c "$CONF" >> "$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	PIDS+=("$DAEMON_PID")
	wait_for "answer from roamsmtpd's control socket" _daemon_ready
}

# _sanitizer_check: an ASan/UBSan report in the daemon's log fails the test.
_sanitizer_check() {
	[ -f "$DAEMON_LOG" ] || return 0
	assert_no_grep 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
	    "$DAEMON_LOG" "sanitizer report from roamsmtpd"
}

# stop_daemon: SIGTERM; it must exit cleanly (or die of the signal).
stop_daemon() {
	local rc=0 _
	kill "$DAEMON_PID"
	for _ in $(seq $((WAIT_DEADLINE * 20))); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$DAEMON_PID" 2>/dev/null ||
	    fail "roamsmtpd still running ${WAIT_DEADLINE}s after SIGTERM"
	wait "$DAEMON_PID" || rc=$?
	case $rc in
	0|143) ;;
	*) fail "roamsmtpd exited with status $rc on SIGTERM" ;;
	esac
	DAEMON_PID=
	_sanitizer_check
}

kill9_daemon() {
	kill -9 "$DAEMON_PID"
	wait "$DAEMON_PID" || true
	DAEMON_PID=
}

# daemon_vmhwm_kb: the daemon's peak resident memory so far.
daemon_vmhwm_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$DAEMON_PID/status"
}

# queue_json: the queue listing.
queue_json() {
	ctl --json queue 2>> "$T/ctl.err"
}

queue_count() {
	queue_json | json 'len(j["messages"])'
}

# queue_field ID FIELD: one field of one queued message.
queue_field() {
	queue_json | json "[m for m in j['messages'] if m['id'] == '$1'][0]['$2']"
}

_queue_is() {
	[ "$(queue_count)" = "$1" ]
}

_queue_state_is() {
	[ "$(queue_field "$1" state)" = "$2" ]
}

_queue_has_error() {
	[ "$(queue_field "$1" last_error)" != null ]
}

wait_queue_count() {	# N
	wait_for "queue of $1 message(s)" _queue_is "$1"
}

wait_queue_state() {	# ID STATE
	wait_for "message $1 in state $2" _queue_state_is "$1" "$2"
}

wait_queue_error() {	# ID
	wait_for "last_error on message $1" _queue_has_error "$1"
}

# assert_queue_files ID: ID.msg and ID.env are on disk (the 250 "queued"
# promised that).
assert_queue_files() {
	if [ ! -f "$QUEUE_DIR/$1.msg" ] || [ ! -f "$QUEUE_DIR/$1.env" ]; then
		fail "message $1 not on disk: $(ls -A "$QUEUE_DIR")"
	fi
}

# assert_queue_files_gone ID: neither ID.msg nor ID.env is left on disk.
assert_queue_files_gone() {
	if [ -e "$QUEUE_DIR/$1.msg" ] || [ -e "$QUEUE_DIR/$1.env" ]; then
		fail "message $1 still on disk: $(ls -A "$QUEUE_DIR")"
	fi
}

# pass: the scenario's last line: a clean stop, and no sanitizer report.
PASSED=
pass() {
	[ -z "$DAEMON_PID" ] || stop_daemon
	_sanitizer_check
	PASSED=1
	printf 'PASS %s\n' "$TEST_NAME"
}

# ------------------------------------------------------------------ upstream

_upstream_ready() {	# NAME PID
	kill -0 "$2" 2>/dev/null || {
		_show "upstream $1 stderr" "$T/up-$1/stderr"
		fail "upstream $1 exited while starting"
	}
	grep -q '^READY ' "$T/up-$1/stdout"
}

# start_upstream NAME PORT [upstream.py flags...]: a recording upstream;
# messages go to $T/up-NAME/msgs, its event log to $T/up-NAME/log.  A name
# started again keeps its folder (numbering goes on).
start_upstream() {
	local name=$1 port=$2 dir=$T/up-$1 pid
	shift 2
	mkdir -p "$dir"
	: > "$dir/stdout"
	"$PY" "$LIB/upstream.py" --port "$port" --outdir "$dir/msgs" \
	    --log "$dir/log" "$@" > "$dir/stdout" 2>> "$dir/stderr" &
	pid=$!
	PIDS+=("$pid")
	printf -v "UPSTREAM_PID_$name" '%s' "$pid"
	case " ${UPSTREAMS[*]} " in *" $name "*) ;; *) UPSTREAMS+=("$name") ;; esac
	wait_for "READY from upstream $name" _upstream_ready "$name" "$pid"
}

stop_upstream() {	# NAME
	local var=UPSTREAM_PID_$1
	_stop_pid "${!var}"
}

upstream_count() {	# NAME: messages the upstream accepted
	local n
	n=$(find "$T/up-$1/msgs" -name '*.eml' 2>/dev/null | wc -l)
	echo "$n"
}

_upstream_has() {
	[ "$(upstream_count "$1")" -ge "$2" ]
}

wait_upstream_count() {	# NAME N
	wait_for "message $2 at upstream $1" _upstream_has "$1" "$2"
}

upstream_eml() {	# NAME N: the path of message N (1-based)
	printf '%s/up-%s/msgs/%04d.eml\n' "$T" "$1" "$2"
}

upstream_env() {	# NAME N EXPR: a field of message N's envelope
	json "$3" < "$(printf '%s/up-%s/msgs/%04d.json' "$T" "$1" "$2")"
}

upstream_log() {	# NAME
	printf '%s/up-%s/log\n' "$T" "$1"
}

# upstream_conn_of NAME N: the upstream's connection number that accepted
# message N.
upstream_conn_of() {
	awk -v m="$(printf '%04d' "$2")" '$2 == "ACCEPT" && $3 == m {
	    sub("conn=", "", $1); print $1 }' "$T/up-$1/log"
}

# upstream_conn_events NAME CONN: the events of one connection, in order,
# on one line ("CONNECT EHLO STARTTLS TLS EHLO AUTH AUTH-OK MAIL ...").
upstream_conn_events() {
	awk -v c="conn=$2" '$1 == c { printf "%s%s", sep, $2; sep = " " }
	    END { print "" }' "$T/up-$1/log"
}

# upstream_events NAME EVENT: how many EVENT lines the upstream logged.
upstream_events() {
	local n
	n=$(awk -v e="$2" '$2 == e' "$T/up-$1/log" 2>/dev/null | wc -l)
	echo "$n"
}

# ------------------------------------------------------------------ messages

# make_message FILE SUBJECT [BODY-LINES]: a complete message with CRLF line
# ends, whose body has what a relay must keep intact: lines starting with a
# dot, a lone dot, a 998-octet line, trailing spaces, an empty last line.
make_message() {
	"$PY" - "$@" <<'EOF'
import sys
path, subject = sys.argv[1], sys.argv[2]
extra = int(sys.argv[3]) if len(sys.argv) > 3 else 0
lines = [
    "From: Alice <alice@example.org>",
    "To: Bob <bob@example.net>",
    f"Subject: {subject}",
    "Date: Thu, 01 Jan 2026 12:00:00 +0000",
    f"Message-ID: <{subject.replace(' ', '-')}@test.example.org>",
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "Hello Bob,",
    ".a line that starts with a dot",
    ".",
    "..two dots",
    "trailing spaces   ",
    "x" * 998,
    "",
]
lines += [f"line {i:08d} " + "y" * 60 for i in range(extra)]
lines += ["-- ", "Alice", ""]
with open(path, "wb") as f:
    f.write("\r\n".join(lines).encode() + b"\r\n")
EOF
}

# ------------------------------------------------------------------ clients
#
# Each runs one client against the daemon, writes its transcript to a new
# file, and sets CLIENT_OUT (that file) and CLIENT_RC (its exit status).

run_client() {	# NAME COMMAND...
	CLIENT_N=$((CLIENT_N + 1))
	CLIENT_OUT=$T/client-$CLIENT_N-$1.out
	shift
	CLIENT_RC=0
	"$@" > "$CLIENT_OUT" 2>&1 || CLIENT_RC=$?
}

client_ok() {	# the last client must have succeeded
	[ "$CLIENT_RC" -eq 0 ] || {
		_show "client transcript" "$CLIENT_OUT"
		fail "client exited with status $CLIENT_RC"
	}
}

# queued_id: the id in "250 2.0.0 Ok: queued as ID" in the last transcript.
queued_id() {
	local id
	id=$(grep -Eo 'queued as [0-9a-f]{16}\b' "$CLIENT_OUT" | head -n 1 |
	    awk '{ print $3 }')
	[ -n "$id" ] || fail "no 'queued as ID' (16 hex digits) in $CLIENT_OUT"
	echo "$id"
}

# smtplib MODE [submit.py args...]: see tests/lib/submit.py.
smtplib() {
	run_client "smtplib-$1" "$PY" "$LIB/submit.py" "$1" --port "$DAEMON_PORT" \
	    "${@:2}"
}

# swaks FILE FROM TO...: swaks sending FILE as the whole DATA.
swaks_send() {
	local file=$1 from=$2 rcpt
	shift 2
	rcpt=$(IFS=,; echo "$*")
	run_client swaks swaks --server 127.0.0.1 --port "$DAEMON_PORT" \
	    --helo client.test --from "$from" --to "$rcpt" \
	    --data "@$file" --timeout 120
}

# curl_send FILE FROM TO...: curl's SMTP upload, verbose transcript.
curl_send() {
	local file=$1 from=$2 r args=()
	shift 2
	for r; do args+=(--mail-rcpt "$r"); done
	run_client curl curl -sS -v --max-time 120 \
	    --url "smtp://127.0.0.1:$DAEMON_PORT/client.test" \
	    --mail-from "$from" "${args[@]}" --upload-file "$file"
}

# msmtp_send FILE FROM TO...: msmtp, no TLS and no AUTH to the daemon.
msmtp_send() {
	local file=$1 from=$2 rc=$T/msmtprc
	shift 2
	printf '%s\n' 'defaults' 'tls off' 'auth off' 'logfile -' \
	    'account default' 'host 127.0.0.1' "port $DAEMON_PORT" \
	    "from $from" 'domain client.test' 'timeout 120' > "$rc"
	chmod 600 "$rc"
	run_client msmtp bash -c \
	    'exec msmtp --debug -C "$1" -f "$2" -- "${@:4}" < "$3"' \
	    msmtp "$rc" "$from" "$file" "$@"
}

# A profile for an upstream on 127.0.0.1:PORT, plain text, no AUTH.
plain_profile() {	# NAME PORT
	write_profile "$1" <<EOF
[match]
default = true

[upstream]
host = 127.0.0.1
port = $2
tls = none
auth = none
EOF
}
