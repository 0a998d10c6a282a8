#!/bin/bash
# long_lines_and_bare_lf: malformed input is refused and nothing of it goes
# upstream: a DATA line over 1000 octets (5xx at the end of data), a bare LF
# or a bare CR in DATA (550 5.6.0 after the client's terminator), a command
# line over 2048 octets (500 5.5.2).  A well-formed message afterwards goes
# through, so the upstream was there to receive the others.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
start_daemon

# raw_data NAME FORMAT SUBJECT: send printf FORMAT SUBJECT verbatim after DATA's
# 354, with its own terminator; the transcript is in CLIENT_OUT.
raw_data() {
	printf "$2" "$3" > "$T/$1.data"
	smtplib raw --from alice@example.org --to bob@example.net "$T/$1.data"
	client_ok
}

long=$(printf '%1500s' '' | tr ' ' L)
head='Subject: %s\r\n\r\n'

step "a DATA line of 1502 octets"
raw_data long "$head"'before\r\n'"$long"'\r\nafter\r\n.\r\n' "long line"
assert_grep '^END 5[0-9][0-9] ' "$CLIENT_OUT" "reply to an over-long line"

step "a bare LF in DATA"
raw_data baref "$head"'line one\nline two\r\n.\r\n' "bare lf"
assert_grep '^END 550 5\.6\.0' "$CLIENT_OUT" "reply to a bare LF"

step "a bare CR in DATA"
raw_data barecr "$head"'line one\rline two\r\n.\r\n' "bare cr"
assert_grep '^END 550 5\.6\.0' "$CLIENT_OUT" "reply to a bare CR"

step "a command line of 2570 octets"
smtplib cmd "MAIL FROM:<$(printf '%2550s' '' | tr ' ' a)@example.org>"
client_ok
assert_grep '^CMD 500 5\.5\.2' "$CLIENT_OUT" "reply to an over-long command"

step "nothing of it reached the upstream or the queue"
assert_eq 0 "$(upstream_count up)" "messages at the upstream"
assert_eq 0 "$(queue_count)" "messages in the queue"

step "a well-formed message goes through"
raw_data good "$head"'a good line\r\n..a stuffed line\r\n.\r\n' "good"
assert_grep '^END 250 2\.0\.0 Ok: accepted by upstream as 0001$' "$CLIENT_OUT" \
    "reply to a good message"
printf 'Subject: good\r\n\r\na good line\r\n.a stuffed line\r\n' > "$T/good.expected"
assert_same_bytes "$T/good.expected" "$(upstream_eml up 1)" "relayed message"
assert_eq 1 "$(upstream_count up)" "messages at the upstream"
pass
