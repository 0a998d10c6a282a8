#!/bin/bash
# switch_bench.sh BUILD_DIR - how fast does roamsmtpd follow the network?
# Two times, each over BENCH_SWITCH_REPS repetitions in one run:
#   (a) from a network change (the mock NetworkManager's D-Bus signals) to
#       the new profile being active (the "profile" event on the watch);
#   (b) from connectivity coming back to the first queued message being
#       accepted by the upstream.
# The issue's aims: under 100 ms and under 1 s.
#
# roamsmtpd runs with network-backend = networkmanager against
# tests/lib/nm_mock.py (python-dbusmock on a private bus of this run's own)
# and two profiles, home and office, told apart by SSID.  The measuring is
# done by bench/switch_bench.py, which drives the mock over D-Bus, reads
# "roamsmtpctl --json watch" and is the upstream itself, all on one
# monotonic clock.  Every repetition is checked (the event names the
# profile the change leads to; the upstream gets the very message that was
# queued); a failed check stops the benchmark with the daemon's log.
# See bench/README.md.
#
# The report goes to stdout and to BUILD_DIR/switch-bench-results.txt;
# progress goes to stderr.
#
# Environment (all optional):
#   BENCH_SWITCH_REPS     repetitions of each part           (default 20)
#   BENCH_QUICK=1         a smoke run: 3 repetitions
#   BENCH_SWITCH_TIMEOUT  seconds one step may take          (default 30)
#   BENCH_KEEP=1          keep the temporary folder (configs, logs, samples)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
NM_LIB=$SRC/tests/lib

usage() {
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
}

die() {
	echo "switch_bench: $*" >&2
	exit 1
}

note() {
	echo "switch_bench: $*" >&2
}

[ $# -eq 1 ] || usage
[ -d "$1" ] || die "$1: no such build folder; run 'make build' first"
BUILD=$(cd "$1" && pwd)
DAEMON=$BUILD/daemon/roamsmtpd
CTL=$BUILD/daemon/roamsmtpctl
RESULTS=$BUILD/switch-bench-results.txt

dreps=20
[ "${BENCH_QUICK:-0}" = 1 ] && dreps=3
REPS=${BENCH_SWITCH_REPS:-$dreps}
RUN_TIMEOUT=${BENCH_SWITCH_TIMEOUT:-30}
PYTHON=/usr/bin/python3	# Debian's, which has dbus-python, dbusmock, aiosmtpd

for v in REPS RUN_TIMEOUT; do
	case ${!v} in
	''|*[!0-9]*|0) die "$v=${!v}: must be a positive whole number" ;;
	esac
done

# --- tools ------------------------------------------------------------------

[ -x "$DAEMON" ] || die "$DAEMON not found: build it first ('make build')"
[ -x "$CTL" ] || die "$CTL not found: build it first ('make build')"
[ -f "$NM_LIB/nm_mock.py" ] || die "$NM_LIB/nm_mock.py not found"
command -v dbus-daemon >/dev/null ||
	die "dbus-daemon not found ('make bench' installs it, or:" \
	    "apt-get install dbus-daemon)"
for m in dbus:python3-dbus dbusmock:python3-dbusmock \
    aiosmtpd:python3-aiosmtpd; do
	"$PYTHON" -c "import ${m%%:*}" 2>/dev/null ||
		die "$PYTHON cannot import ${m%%:*} ('make bench' installs it," \
		    "or: apt-get install ${m#*:})"
done
# How long the NetworkManager watcher gathers a burst of notifications
# before it takes one snapshot (NM_COALESCE_MS, in netwatch_nm.c or its
# helper's nmwatch_main.c): part of every time measured here.
COALESCE=$(awk '$1 == "#define" && $2 == "NM_COALESCE_MS" {
    f = FILENAME; sub(/.*\//, "", f); print $3 ":" f; exit }' \
    "$SRC"/daemon/*.c 2>/dev/null)

# --- processes and cleanup ----------------------------------------------------

WORK=$(mktemp -d "${TMPDIR:-/tmp}/roamsmtp-swbench.XXXXXX") ||
	die "cannot make a temporary folder"
PIDS=()
NM_DIR=''

stop_pid() {
	local pid=$1
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do
		stop_pid "$pid"
	done
	# The mock and its bus run in sessions of their own; nm_mock.py
	# stops them by the ids it wrote down.
	[ -n "$NM_DIR" ] && "$PYTHON" "$NM_LIB/nm_mock.py" stop "$NM_DIR"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		note "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- ports --------------------------------------------------------------------

USED_PORTS=" "

port_in_use() {
	local hex
	hex=$(printf ':%04X ' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -q "$hex"
}

# Set PORT to one nothing on this machine uses and that this run has not
# handed out yet (not in a $(...) subshell: USED_PORTS must remember it).
free_port() {
	local p tries=0
	while [ $tries -lt 200 ]; do
		p=$((20000 + RANDOM % 30000))
		tries=$((tries + 1))
		case $USED_PORTS in *" $p "*) continue ;; esac
		port_in_use "$p" && continue
		USED_PORTS="$USED_PORTS$p "
		PORT=$p
		return 0
	done
	die "no free TCP port found in 20000-49999"
}

# --- the mock, the daemon ------------------------------------------------------

DAEMON_LOG=$WORK/roamsmtpd.log
REPORT=$WORK/report.txt

fail_run() {
	note "FAILED: $*"
	if [ -s "$DAEMON_LOG" ]; then
		note "last lines of roamsmtpd's log ($DAEMON_LOG):"
		tail -n 40 "$DAEMON_LOG" >&2
	fi
	if [ -n "$NM_DIR" ] && [ -s "$NM_DIR/mock.log" ]; then
		note "last lines of the mock's log:"
		tail -n 10 "$NM_DIR/mock.log" >&2
	fi
	note "(BENCH_KEEP=1 keeps $WORK for a closer look)"
	exit 1
}

note "starting the mock NetworkManager on a private bus"
NM_OUT=$("$PYTHON" "$NM_LIB/nm_mock.py" start "$WORK/nm") ||
	fail_run "the mock NetworkManager did not start (see $WORK/nm)"
NM_DIR=$WORK/nm
eval "$NM_OUT"	# exports DBUS_SYSTEM_BUS_ADDRESS for roamsmtpd and the driver

free_port
DAEMON_PORT=$PORT
free_port
UPSTREAM_PORT=$PORT
mkdir -p "$WORK/state" "$WORK/run" "$WORK/profiles"
chmod 700 "$WORK/run"
CONF=$WORK/roamsmtp.conf
cat >"$CONF" <<EOF
[daemon]
listen = 127.0.0.1:$DAEMON_PORT
state-dir = $WORK/state
runtime-dir = $WORK/run
profiles-dir = $WORK/profiles
network-backend = networkmanager
EOF
for p in home:HomeWifi office:OfficeWifi; do
	printf '%s\n' '[match]' "ssid = ${p#*:}" '' '[upstream]' \
	    'host = 127.0.0.1' "port = $UPSTREAM_PORT" 'tls = none' \
	    'auth = none' >"$WORK/profiles/${p%%:*}.conf"
done

note "starting roamsmtpd"
"$DAEMON" -f -c "$CONF" >"$DAEMON_LOG" 2>&1 &
DAEMON_PID=$!
PIDS+=("$DAEMON_PID")
for i in $(seq 100); do
	"$CTL" -c "$CONF" status >/dev/null 2>&1 && break
	kill -0 "$DAEMON_PID" 2>/dev/null || fail_run "roamsmtpd exited"
	[ "$i" -eq 100 ] && fail_run "roamsmtpd's control socket did not" \
	    "answer within 10 s"
	sleep 0.1
done
grep -q 'network=networkmanager\|backend=networkmanager' "$DAEMON_LOG" ||
	fail_run "roamsmtpd does not say it watches NetworkManager"

# --- the benchmark ----------------------------------------------------------------

# A report from an earlier run must not pass for this one's.
rm -f "$RESULTS"

out() {
	# shellcheck disable=SC2059 # the formats are this script's
	printf "$@" >>"$REPORT"
}

out 'roamsmtpd network switch benchmark, %s\n' "$(date '+%Y-%m-%d %H:%M:%S %z')"
out 'machine: %s CPUs (nproc), %s, Linux %s %s\n' "$(nproc)" \
    "$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
    "$(uname -r)" "$(uname -m)"
out 'load average at the start: %s (other work on the machine slows every row)\n' \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
out 'daemon: %s\n' "$DAEMON"
out 'network: python-dbusmock NetworkManager (tests/lib/nm_mock.py), private bus\n'
out 'times: one monotonic clock in bench/switch_bench.py, which sends the D-Bus\n'
out 'changes, reads "roamsmtpctl --json watch" and is the upstream; p95 is the\n'
out 'nearest rank (with 20 repetitions, the second largest)\n\n'

"$PYTHON" "$HERE/switch_bench.py" --ctl "$CTL" --conf "$CONF" \
    --port "$DAEMON_PORT" --upstream-port "$UPSTREAM_PORT" \
    --nm-lib "$NM_LIB" --reps "$REPS" --timeout "$RUN_TIMEOUT" \
    --coalesce "$COALESCE" --samples "$WORK/samples.txt" \
    >>"$REPORT" &
DRIVER_PID=$!
PIDS+=("$DRIVER_PID")
# Waited for with the wait builtin, which a signal interrupts (bash runs
# the INT/TERM trap only after a foreground command ends).
wait "$DRIVER_PID"
rc=$?
[ $rc -eq 0 ] || fail_run "the measuring driver exited with status $rc"
kill -0 "$DAEMON_PID" 2>/dev/null || fail_run "roamsmtpd died during the run"

cat "$REPORT"
cp "$REPORT" "$RESULTS" || die "cannot write $RESULTS"
note "results written to $RESULTS"
