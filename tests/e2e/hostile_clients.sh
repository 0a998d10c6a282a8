#!/bin/bash
# hostile_clients: clients that try to make the daemon send what they did
# not say, or say more than it allows, each on its own connection, online
# (a real upstream behind):
#   smuggling   ends of data that are not <CRLF>.<CRLF> ("\n.\n",
#               "\r.\r", "\r\n.\r\r\n", "\n.\r\n", a NUL before the dot...)
#               followed by a whole second transaction in the same write;
#   starttls    STARTTLS with commands pipelined behind it: refused (502,
#               not offered on loopback), no TLS starts, and what follows is
#               answered in the same plaintext session, one reply each;
#   nul         NUL in commands (500) and in a message (refused or passed
#               on byte for byte, never cut at the NUL);
#   overlong    a 3000-octet command, a 300-octet address, 100 KB with no
#               line end: 500/501, and the session still works;
#   recipients  one more recipient than max-recipients: 452 4.5.3 for it,
#               the message goes once to those accepted;
#   errors      ten bad commands: 421 and the connection is closed.
# Every answer is a clear SMTP reply, and the upstream gets exactly one
# message for each 250 given for DATA: never a second, smuggled one.
. "$(dirname "$0")/../lib/common.sh"

up=$(free_port)
start_upstream up "$up"
plain_profile home "$up"
write_conf "max-recipients = 5"
start_daemon

cat > "$T/hostile.py" <<'PYEOF'
import socket, sys
port = int(sys.argv[1])
out = sys.stdout

class C:
    def __init__(self, case):
        self.case = case
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")
        self.reply()

    def reply(self):
        lines = []
        while True:
            try:
                l = self.f.readline(1 << 20)
            except (ConnectionResetError, socket.timeout) as e:
                out.write(f"{self.case} {type(e).__name__}\n")
                return None
            if not l:
                out.write(f"{self.case} EOF\n")
                return None
            lines.append(l)
            if l[3:4] != b"-":
                break
        text = lines[-1].decode("utf-8", "replace").rstrip("\r\n")
        out.write(f"{self.case} {text}\n")
        out.flush()
        return text

    def send(self, data, replies=1):
        self.s.sendall(data)
        return [self.reply() for _ in range(replies)]

    def abort(self):
        self.s.close()

    def close(self):
        try:
            self.s.sendall(b"QUIT\r\n")
            while self.reply() is not None:
                pass
        except OSError:
            pass
        self.s.close()

def tx(c, rcpts=("bob@example.net",)):
    c.send(b"MAIL FROM:<alice@example.org>\r\n")
    for r in rcpts:
        c.send(f"RCPT TO:<{r}>\r\n".encode())
    return c.send(b"DATA\r\n")[0]

second = (b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.net>\r\n"
          b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n")
# The last two hide the dot behind a NUL, for servers that strip NULs.
ends = [b"\n.\n", b"\r.\r", b"\r\n.\r\r\n", b"\n.\r\n", b"\r\n.\n",
        b"\r.\r\n", b"\r\n\x00.\r\n", b"\r\n.\x00\r\n"]
for i, end in enumerate(ends):
    c = C(f"smuggle{i}")
    c.send(b"EHLO hostile.test\r\n")
    if tx(c).startswith("354"):
        # The smuggled transaction, then the real end: one reply is owed.
        c.send(b"Subject: legit " + str(i).encode() + b"\r\n\r\nhello" + end +
               second + b".\r\n")
    c.close()

c = C("starttls")
c.send(b"EHLO hostile.test\r\n")
c.send(b"STARTTLS\r\nMAIL FROM:<injected@example.org>\r\nRCPT TO:<victim@example.net>\r\n"
       b"DATA\r\n", 4)
c.abort()	# mid-DATA: nothing may be sent

c = C("nul")
c.send(b"EHLO hostile\x00.test\r\n")
c.send(b"EHLO hostile.test\r\n")
c.send(b"MAIL FROM:<ali\x00ce@example.org>\r\n")
if tx(c).startswith("354"):
    c.send(b"Subject: nul\r\n\r\nbefore\x00after\r\n.\r\n")
c.close()

c = C("overlong")
c.send(b"EHLO hostile.test\r\n")
c.send(b"NOOP " + b"x" * 3000 + b"\r\n")
c.send(b"MAIL FROM:<" + b"a" * 300 + b"@example.org>\r\n")
c.send(b"RCPT TO:<" + b"b" * 300 + b"@example.net>\r\n")
c.send(b"y" * 100000 + b"\r\n")
c.send(b"NOOP\r\n")
c.close()

c = C("recipients")
c.send(b"EHLO hostile.test\r\n")
if tx(c, [f"r{i}@example.net" for i in range(6)]).startswith("354"):
    c.send(b"Subject: six recipients\r\n\r\nhello\r\n.\r\n")
c.close()

c = C("errors")
c.send(b"EHLO hostile.test\r\n")
c.send(b"BOGUS\r\n" * 12, 11)
c.close()
PYEOF

step "hostile clients, one connection each"
run_client hostile "$PY" "$T/hostile.py" "$DAEMON_PORT"
client_ok
out=$CLIENT_OUT

step "smuggling: refused, never two messages"
# 6 and 7 hide the dot behind a NUL: RFC 5321 allows no NUL in DATA (nor
# does 8BITMIME, RFC 6152), and a server that strips NULs would read
# "\r\n.\r\n" there and a second message after it.
for i in 0 1 2 3 4 5 6 7; do
	assert_grep "^smuggle$i 354 " "$out" "DATA for smuggling attempt $i"
	assert_grep "^smuggle$i 5[0-9][0-9] " "$out" "refusal of smuggling attempt $i"
	assert_no_grep "^smuggle$i 250 2\.0\.0" "$out" "a 250 for smuggling attempt $i"
done
assert_no_grep 'evil@example\.org' "$(upstream_log up)" \
    "a smuggled envelope at the upstream"

step "STARTTLS with commands behind it: refused, no TLS, in order"
assert_grep '^starttls 502 5\.5\.1 STARTTLS not offered' "$out" "STARTTLS"
assert_grep '^starttls 554 5\.5\.1 Improper command pipelining' "$out" \
    "the commands behind STARTTLS refused"
# Greeting, EHLO, then at most one reply for STARTTLS and each command
# behind it, in order.
[ "$(grep -c '^starttls [2-5][0-9][0-9] ' "$out")" -le 6 ] ||
    fail "more replies than commands in the STARTTLS session"
# RFC 3207 4: nothing may be pipelined after STARTTLS; a server discards
# (or refuses) what follows, as Postfix does ("improper command pipelining
# after STARTTLS").
starttls_injection=
grep -q 'injected@example\.org' "$(upstream_log up)" && starttls_injection=1

step "NUL, overlong lines, too many recipients, too many errors"
assert_grep '^nul 500 5\.5\.2 NUL' "$out" "NUL in a command"
assert_grep '^overlong 500 5\.5\.2 Line too long' "$out" "a 3000-octet command"
assert_grep '^overlong 501 ' "$out" "a 300-octet address"
assert_grep '^overlong 250 2\.0\.0' "$out" "NOOP after the overlong lines"
assert_grep '^recipients 452 4\.5\.3 ' "$out" "the sixth recipient"
assert_grep '^errors 421 ' "$out" "ten errors"
assert_grep '^errors EOF' "$out" "the connection closed after ten errors"

step "one message upstream for each 250 given"
given=$(grep -Ec '^[a-z0-9]+ 250 2\.0\.0 Ok: (accepted by upstream|queued as)' "$out" || true)
wait_upstream_count up "$given"
assert_eq "$given" "$(upstream_count up)" "messages at the upstream"
rcpts=$(upstream_env up "$(upstream_count up)" 'len(j["rcpt_tos"])')
assert_eq 5 "$rcpts" "recipients of the message with one too many"
# A NUL in the body: refused like a bare CR or LF, never passed on.
assert_grep '^nul 550 5\.6\.0 Message refused: NUL' "$out" "NUL in DATA"
cases=$(cut -d' ' -f1 "$out" | sort -u | wc -l)
printf 'FIGURES hostile_clients cases=%s upstream_messages=%s smuggled=0\n' \
    "$cases" "$given"
[ -z "$starttls_injection" ] ||
    fail "commands pipelined after STARTTLS were run (and reached the upstream)"
pass
