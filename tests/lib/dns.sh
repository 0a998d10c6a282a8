# dns.sh - a DNS server on loopback for the discovery scenarios; source it
# after common.sh.
# shellcheck shell=bash
#
#	dns_start DNSMASQ-RECORD-OPTION...
#	    e.g. --srv-host=_submissions._tcp.example.test,mail.example.test,465,0,10
#	         --host-record=mail.example.test,127.0.0.1
#
# runs Debian's dnsmasq confined to the test: 127.0.0.1 only, on a port of
# its own ($DNS_PORT), no /etc/dnsmasq.conf, no resolv.conf, no hosts file,
# no upstream server: it knows the records the test gives and nothing else.
# It exports ROAMSMTP_DNS_SERVER=127.0.0.1:$DNS_PORT, which a roamsmtpd
# started afterwards uses for host = auto (SRV through c-ares, and the
# addresses of what it finds through evdns).  Every query is logged to
# $T/dns/log.
#
# Without dnsmasq the scenario is skipped (exit 77).
#
#	dns_queries NAME     how many queries for NAME dnsmasq answered (in
#	                     any case: evdns mixes the case of the names it
#	                     asks for, draft-vixie-dnsext-dns0x20)

DNS_PORT=

_dns_ready() {
	kill -0 "$1" 2>/dev/null || {
		_show "dnsmasq log" "$T/dns/log"
		_show "dnsmasq stderr" "$T/dns/stderr"
		fail "dnsmasq exited while starting"
	}
	# Any answer to a query for "." over UDP: it listens.
	"$PY" - "$DNS_PORT" <<'EOF' 2>/dev/null
import socket, struct, sys
q = struct.pack(">HHHHHH", 0x5253, 0x0100, 1, 0, 0, 0) + b"\0" + \
    struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.sendto(q, ("127.0.0.1", int(sys.argv[1])))
sys.exit(s.recv(512)[:2] != q[:2])
EOF
}

dns_start() {
	local pid
	if ! command -v dnsmasq >/dev/null; then
		printf 'SKIP %s: missing dnsmasq (%s)\n' "$TEST_NAME" \
		    "packaging/install-deps.sh test"
		exit 77
	fi
	mkdir -p "$T/dns"
	DNS_PORT=$(free_port)
	dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv \
	    --no-hosts --no-negcache --listen-address=127.0.0.1 \
	    --bind-interfaces --port="$DNS_PORT" --user=root \
	    --pid-file="$T/dns/pid" --log-facility="$T/dns/log" \
	    --log-queries "$@" > "$T/dns/stdout" 2> "$T/dns/stderr" &
	pid=$!
	PIDS+=("$pid")
	wait_for "an answer from dnsmasq" _dns_ready "$pid"
	export ROAMSMTP_DNS_SERVER=127.0.0.1:$DNS_PORT
}

dns_queries() {
	local n
	n=$(grep -ci "query\[[A-Z]*\] $1 from" "$T/dns/log" 2>/dev/null) || true
	echo "${n:-0}"
}
