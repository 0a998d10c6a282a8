#!/bin/bash
# sendmail_daemon_down_keeps_message: with roamsmtpd not running,
# roamsmtp-sendmail says so on stderr, exits 75 (EX_TEMPFAIL), and keeps the
# message in state-dir/outbox/NAME.eml, byte for byte as given, with
# NAME.txt saying why and how to send it again; that command, once the
# daemon runs, delivers it.  -bs without a daemon answers 421.
. "$(dirname "$0")/../lib/common.sh"
SENDMAIL=${ROAMSMTP_SENDMAIL:-$(dirname "$ROAMSMTPD")/roamsmtp-sendmail}

up=$(free_port)
start_upstream up "$up"
plain_profile up "$up"
write_conf

step "the daemon is not running: status 75, the message kept"
printf '%s\n' 'From: alice@example.org' 'To: bob@example.net' \
    'Bcc: carol@example.org' 'Subject: kept' '' 'body' '.' 'line' > "$T/in.txt"
run_client sendmail "$SENDMAIL" -C "$CONF" -t -i < "$T/in.txt"
assert_eq 75 "$CLIENT_RC" "exit status (EX_TEMPFAIL)"
assert_grep "cannot connect to roamsmtpd on 127\.0\.0\.1:$DAEMON_PORT" "$CLIENT_OUT" "reason on stderr"
assert_grep "kept in $T/state/outbox/[0-9]{8}-[0-9]{6}-[0-9]+\.eml" "$CLIENT_OUT" "where it is, on stderr"
kept=$(ls "$T/state/outbox/"*.eml)
assert_eq 1 "$(echo "$kept" | wc -l)" "messages in the outbox"
assert_same_bytes "$T/in.txt" "$kept" "kept message"
assert_eq 600 "$(stat -c %a "$kept")" "mode of the kept message"
note=${kept%.eml}.txt
assert_grep 'Connection refused' "$note" "reason in the note"
assert_eq 0 "$(find "$T/state/outbox" -name '.*.partial' | wc -l)" "partial files left"

step "the note's command sends it once the daemon runs"
start_daemon
resend=$(sed -n '/^Send it again with:/,$p' "$note" | tail -n +2 | tr -d '\n')
run_client resend env PATH="$(dirname "$SENDMAIL"):$PATH" bash -c "$resend"
client_ok
wait_upstream_count up 1
assert_eq '["bob@example.net", "carol@example.org"]' "$(upstream_env up 1 'j["rcpt_tos"]')" \
    "recipients of the resent message"
assert_no_grep '^Bcc:' "$(upstream_eml up 1)" "Bcc: header"
assert_grep '^\.'$'\r''$' "$(upstream_eml up 1)" "the lone dot line (-i)"
[ ! -e "$kept" ] || fail "the resend command did not remove $kept"

step "-bs relays an SMTP session; without the daemon it answers 421"
run_client swaks swaks --pipe "$SENDMAIL -bs -C $CONF" --from alice@example.org \
    --to dave@example.net --helo client.test --h-Subject 'via -bs'
client_ok
wait_upstream_count up 2
assert_eq '["dave@example.net"]' "$(upstream_env up 2 'j["rcpt_tos"]')" "recipient via -bs"
stop_daemon
run_client bs sh -c "printf 'QUIT\r\n' | '$SENDMAIL' -bs -C '$CONF'"
assert_eq 75 "$CLIENT_RC" "exit status of -bs without a daemon"
assert_grep '^421 4\.3\.0 cannot connect to roamsmtpd' "$CLIENT_OUT" "421 to the client"
pass
