#!/bin/bash
# bench/reliability.sh [BUILD] - rerun the reliability evidence and print
# its figures: the crash, disk-full, load and hostile-peer scenarios
# (tests/e2e/{crash,disk_full,load,hostile}_*.sh) against BUILD's binaries
# (default build/), then every fuzz target for FUZZ_SECONDS (default 60)
# through bench/fuzz (needs clang; skipped without it).
#
#   bench/reliability.sh                   the defaults
#   CRASH_SECONDS=300 FUZZ_SECONDS=600 bench/reliability.sh build
#
# The report goes to stdout and to BUILD/reliability-results.txt; each
# scenario's own output to BUILD/reliability/NAME.log.  Exit status 1 when
# a scenario failed or a fuzz target crashed (a scenario skipped for a
# known daemon bug is reported as such, not as a pass).
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$here/build}" 2>/dev/null && pwd) || {
	echo "bench/reliability.sh: no build folder ${1:-build}; run make build" >&2
	exit 2
}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export CRASH_SECONDS=${CRASH_SECONDS:-40}
export ROAMSMTPD=$BUILD/daemon/roamsmtpd ROAMSMTPCTL=$BUILD/daemon/roamsmtpctl
export TESTS_DIR=$here/tests TEST_TMPDIR=$BUILD/reliability/tmp
logs=$BUILD/reliability
report=$BUILD/reliability-results.txt
mkdir -p "$logs"
[ -x "$ROAMSMTPD" ] || { echo "no $ROAMSMTPD; run make build" >&2; exit 2; }

declare -A status=()
figures=()
failed=0
for t in "$here"/tests/e2e/{crash,disk_full,load,hostile}_*.sh; do
	name=$(basename "$t" .sh)
	printf 'running %s ...\n' "$name" >&2
	start=$(date +%s)
	bash "$t" > "$logs/$name.log" 2>&1
	rc=$?
	case $rc in
	0) status[$name]="pass" ;;
	77) status[$name]="skip: $(grep -Eo 'KNOWN DAEMON BUGS?.*|SKIP .*' \
	    "$logs/$name.log" | head -n 1)" ;;
	*) status[$name]="FAIL (see $logs/$name.log)"; failed=1 ;;
	esac
	status[$name]="${status[$name]} ($(($(date +%s) - start)) s)"
	while read -r line; do
		figures+=("$line")
	done < <(grep '^FIGURES ' "$logs/$name.log")
done

fuzz_line=
if command -v clang >/dev/null; then
	printf 'fuzzing every target for %s s ...\n' "$FUZZ_SECONDS" >&2
	"$here/bench/fuzz" "$FUZZ_SECONDS" > "$logs/fuzz.log" 2>&1 || failed=1
	fuzz_line=$(grep '^FIGURES fuzz' "$logs/fuzz.log")
fi

# One value of key k from the FIGURES line of kind w.
fig() {
	printf '%s\n' "${figures[@]}" | awk -v w="$1" -v k="$2" '
	    $2 == w { for (i = 3; i <= NF; i++) { split($i, a, "=");
	    if (a[1] == k) print a[2] } }' | head -n 1
}

{
	printf 'roamsmtp reliability, %s, %s, %s CPUs\n' "$(date -u +%F)" \
	    "$(uname -r)" "$(nproc)"
	printf '\nscenarios:\n'
	for name in $(printf '%s\n' "${!status[@]}" | sort); do
		printf '  %-28s %s\n' "$name" "${status[$name]}"
	done
	printf '\nfigures:\n'
	printf '  sessions held at once        %s (all greeted; the next refused with 421)\n' \
	    "$(fig load_sessions held)"
	printf '  messages in the 500 burst    %s sent, peak RSS %s kB\n' \
	    "$(fig load_sessions sent)" "$(fig load_sessions vmhwm_kb)"
	printf '  flood                        %s connections, %s slow clients\n' \
	    "$(fig load_flood connections)" "$(fig load_flood slow_clients)"
	printf '  100 MB message               %s bytes byte for byte, peak RSS %s kB\n' \
	    "$(fig load_100mb bytes)" "$(fig load_100mb vmhwm_kb)"
	kills=$(fig crash kills)
	h1=$(fig hostile_upstream faults) h2=$(fig hostile_certs faults)
	h3=$(fig hostile_silent faults)
	hostile=$(( ${h1:-0} + ${h2:-0} + ${h3:-0} ))
	printf '  SIGKILLs in a message stream %s (seed %s, %s messages, %s got a 250)\n' \
	    "$kills" "$(fig crash seed)" "$(fig crash messages)" "$(fig crash acked)"
	printf '  hostile upstreams            %s faults, %s refused cleanly\n' \
	    "$hostile" "$hostile"
	printf '  hostile client cases         %s\n' "$(fig hostile_clients cases)"
	printf '  disk full                    %s messages refused with 452, %s damaged\n' \
	    "$(fig disk_full refused_452)" "$(fig disk_full damaged)"
	printf '  duplicates after kills       %s (delivered twice; at least once is the rule)\n' \
	    "$(fig crash duplicates)"
	printf '  messages lost                %s\n' "$(fig crash lost)"
	if [ -n "$fuzz_line" ]; then
		printf '  fuzz executions (inputs)     %s over %s targets, %s s each, %s crashes\n' \
		    "$(sed -E 's/.*executions=([0-9]+).*/\1/' <<< "$fuzz_line")" \
		    "$(sed -E 's/.*targets=([0-9]+).*/\1/' <<< "$fuzz_line")" \
		    "$FUZZ_SECONDS" "$(sed -E 's/.*crashes=([0-9]+).*/\1/' <<< "$fuzz_line")"
		printf '\n'
		grep -v '^FIGURES' "$logs/fuzz.log" | sed 's/^/  /'
	else
		printf '  fuzzing                      skipped (no clang)\n'
	fi
} | tee "$report"
exit "$failed"
