#!/bin/bash
# discover_srv_submissions: host = auto, discover = srv (RFC 6186/8314).
# A DNS server on loopback (dnsmasq) publishes the submission servers of
# three domains:
#   example.test  _submissions: priority 0 a server that is down, priority
#                 10 mail.example.test (implicit TLS); _submission too
#   dot.test      _submissions target "." (not offered); _submission
#                 mail.dot.test (STARTTLS)
#   other.test    _submissions mail.example.test: outside other.test, so its
#                 certificate could not vouch for the domain (RFC 6186 6)
#   none.test     both services "." (decidedly not offered)
# Mail from each domain goes where its records say, verified and
# authenticated; the third is queued with the reason and what to do.
. "$(dirname "$0")/../lib/common.sh"
. "$LIB/dns.sh"

make_certs "$T/certs"
(cd "$T/certs" && _certs_leaf mail ca "DNS:mail.example.test,DNS:mail.dot.test")
tls_up=$(free_port)
stls_up=$(free_port)
down=$(free_port)
dns_start \
    --srv-host=_submissions._tcp.example.test,down.example.test,"$down",0,10 \
    --srv-host=_submissions._tcp.example.test,mail.example.test,"$tls_up",10,10 \
    --srv-host=_submission._tcp.example.test,mail.example.test,"$stls_up",0,10 \
    --host-record=down.example.test,127.0.0.1 \
    --host-record=mail.example.test,127.0.0.1 \
    --srv-host=_submissions._tcp.dot.test \
    --srv-host=_submission._tcp.dot.test,mail.dot.test,"$stls_up",0,0 \
    --host-record=mail.dot.test,127.0.0.1 \
    --srv-host=_submissions._tcp.other.test,mail.example.test,"$tls_up",0,0 \
    --srv-host=_submissions._tcp.none.test \
    --srv-host=_submission._tcp.none.test
start_upstream tls "$tls_up" --implicit-tls "$T/certs/mail.crt" "$T/certs/mail.key" \
    --auth alice:Srv-pw
start_upstream stls "$stls_up" --starttls "$T/certs/mail.crt" "$T/certs/mail.key" \
    --auth alice:Srv-pw --auth-require-tls
write_secret "$T/pass" Srv-pw
write_profile roaming <<EOC
[match]
default = true

[upstream]
host = auto
discover = srv
auth = plain
user = alice
password-file = $T/pass
ca-file = $T/certs/ca.crt
EOC
start_daemon
for i in 1 2 3 4 5; do
	make_message "$T/msg$i.eml" "srv $i"
done

step "example.test: priority 0 is down, priority 10 takes it over implicit TLS"
smtplib send --from alice@example.test --to bob@example.net "$T/msg1.eml"
client_ok
assert_same_bytes "$T/msg1.eml" "$(upstream_eml tls 1)" "message 1 at mail.example.test"
assert_eq "CONNECT TLS EHLO AUTH AUTH-OK" \
    "$(upstream_conn_events tls 1 | cut -d' ' -f1-5)" "the session to _submissions"
assert_grep "down\.example\.test:$down failed, trying mail\.example\.test:$tls_up" \
    "$DAEMON_LOG" "the failover by priority"
assert_grep "upstream=mail\.example\.test:$tls_up found by srv" "$DAEMON_LOG" \
    "the discovered upstream in the log"
assert_eq 0 "$(upstream_count stls)" "messages over _submission"

step "example.test again: the pooled session to the same server"
smtplib send --from alice@example.test --to bob@example.net "$T/msg2.eml"
client_ok
assert_same_bytes "$T/msg2.eml" "$(upstream_eml tls 2)" "message 2 at mail.example.test"
assert_eq 1 "$(upstream_events tls CONNECT)" "connections to mail.example.test"

step "dot.test: _submissions is \".\", _submission (STARTTLS) is used"
smtplib send --from carol@dot.test --to bob@example.net "$T/msg3.eml"
client_ok
assert_same_bytes "$T/msg3.eml" "$(upstream_eml stls 1)" "message 3 at mail.dot.test"
assert_eq "CONNECT EHLO STARTTLS TLS EHLO AUTH AUTH-OK" \
    "$(upstream_conn_events stls 1 | cut -d' ' -f1-7)" "the session to _submission"

step "other.test: a target outside the domain is not trusted"
smtplib send --from dave@other.test --to bob@example.net "$T/msg4.eml"
client_ok
id=$(queued_id)
assert_queue_files "$id"
err=$(queue_field "$id" last_error)
assert_match "mail\.example\.test, is outside other\.test.*set host = mail\.example\.test" \
    "$err" "the queued message's reason"

step "none.test: no submission offered; the other domains are not held down"
smtplib send --from erin@none.test --to bob@example.net "$T/msg5.eml"
client_ok
id5=$(queued_id)
wait_queue_error "$id5"
assert_match 'none\.test says it offers no mail submission \(SRV target "\."\)' \
    "$(queue_field "$id5" last_error)" "the second queued message's reason"
assert_eq 2 "$(upstream_count tls)" "messages at mail.example.test"
assert_eq 1 "$(upstream_count stls)" "messages at mail.dot.test"
assert_grep "_submissions\._tcp\.example\.test" "$T/dns/log" "SRV queries at the DNS server"
pass
