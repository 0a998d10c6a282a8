#!/bin/bash
# sendmail_t_headers_to_upstream: roamsmtp-sendmail -t takes the recipients
# from To:, Cc: and Bcc: (display names, quoted commas, groups, folding),
# removes Bcc:, turns LF line ends into CRLF, dot-stuffs, adds the missing
# Date: and Message-ID:, and the upstream receives exactly that.  Without
# -i a lone dot ends the input; with -i (or -oi) it is a line of the body.
# A refused recipient sends nothing to anyone: exit 67 (EX_NOUSER).
. "$(dirname "$0")/../lib/common.sh"
SENDMAIL=${ROAMSMTP_SENDMAIL:-$(dirname "$ROAMSMTPD")/roamsmtp-sendmail}

up=$(free_port)
start_upstream up "$up" --reject-rcpt 'nobody@example.net:550:5.1.1 no such user'
plain_profile up "$up"
start_daemon

sm() {	# ARGS...: roamsmtp-sendmail with the test's config
	run_client sendmail "$SENDMAIL" -C "$CONF" "$@"
}

step "-t: recipients from the headers, Bcc removed, LF made CRLF"
printf '%s\n' \
    'From: Alice <alice@example.org>' \
    'To: Bob <bob@example.net>, "Smith, Carol" <carol@example.org>,' \
    '  team: dave@example.com, eve@example.com;' \
    'Cc: undisclosed-recipients:;' \
    'Bcc: frank@example.com (hidden)' \
    'Subject: via sendmail -t' \
    '' \
    'Hello,' \
    '.a line starting with a dot' \
    '..two dots' \
    '.' \
    'after the lone dot' > "$T/in.txt"
sm -t -i < "$T/in.txt"
client_ok
wait_upstream_count up 1
assert_eq alice@example.org "$(upstream_env up 1 'j["mail_from"]')" "envelope sender (the From: address)"
assert_eq '["bob@example.net", "carol@example.org", "dave@example.com", "eve@example.com", "frank@example.com"]' \
    "$(upstream_env up 1 'j["rcpt_tos"]')" "recipients"
# What arrived, without the added Date: and Message-ID:, is the input with
# CRLF line ends and no Bcc: header.
eml=$(upstream_eml up 1)
assert_grep '^Date: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} [-+][0-9]{4}'$'\r''$' "$eml" "added Date:"
assert_grep '^Message-ID: <[0-9]+\.[0-9a-f]{24}@[^>]+>'$'\r''$' "$eml" "added Message-ID:"
grep -v -e '^Date: ' -e '^Message-ID: ' "$eml" > "$T/got.eml"
grep -v '^Bcc: ' "$T/in.txt" | sed 's/$/\r/' > "$T/want.eml"
assert_same_bytes "$T/want.eml" "$T/got.eml" "message at the upstream"

step "without -i a lone dot ends the message; arguments are recipients"
sm -f '<>' grace@example.org < <(printf 'Subject: lone dot\n\nbefore\n.\nafter\n')
client_ok
wait_upstream_count up 2
assert_eq '<>' "$(upstream_env up 2 'j["mail_from"]')" "null sender (-f '<>')"
assert_eq '["grace@example.org"]' "$(upstream_env up 2 'j["rcpt_tos"]')" "recipient from the argument"
assert_grep '^before'$'\r''$' "$(upstream_eml up 2)" "body before the dot"
assert_no_grep '^after' "$(upstream_eml up 2)" "line after the lone dot"
assert_grep '^From: .*<[^@>]+@[^>]+>'$'\r''$' "$(upstream_eml up 2)" "added From:"

step "-oi and CRLF input: kept as they are, the dot line included"
sm -oi -oem -odi -B8BITMIME -FCronDaemon harry@example.org < <(printf 'Subject: crlf\r\n\r\nx\r\n.\r\ny\r\n')
client_ok
wait_upstream_count up 3
tail -n 3 "$(upstream_eml up 3)" > "$T/tail.eml"
printf 'x\r\n.\r\ny\r\n' > "$T/want-tail.eml"
assert_same_bytes "$T/want-tail.eml" "$T/tail.eml" "body with -oi"
assert_grep '^From: "CronDaemon" <' "$(upstream_eml up 3)" "-F display name"

step "a refused recipient: nothing sent to anyone, status 67, message kept"
sm ivy@example.org nobody@example.net < <(printf 'Subject: refused\n\nbody\n')
assert_eq 67 "$CLIENT_RC" "exit status (EX_NOUSER)"
assert_grep 'nobody@example.net.*550 5\.1\.1 no such user' "$CLIENT_OUT" "the refusal on stderr"
assert_eq 3 "$(upstream_count up)" "messages at the upstream"
ls "$T/state/outbox/"*.eml > /dev/null || fail "no message kept in the outbox"

step "usage errors: no recipients (64), an address that is not one (67)"
sm < /dev/null
assert_eq 64 "$CLIENT_RC" "exit status without recipients"
sm 'bad address@' < <(printf 'Subject: x\n\ny\n')
assert_eq 67 "$CLIENT_RC" "exit status for a bad recipient"
sm -i ok@example.org < <(printf 'Subject: x\n\n%01000d\n' 0)
assert_eq 65 "$CLIENT_RC" "exit status for a line over 998 octets"
assert_grep 'line 3 is longer than 998' "$CLIENT_OUT" "the long line named"
assert_eq 3 "$(upstream_count up)" "messages at the upstream"
pass
