#!/usr/bin/python3
"""submit.py - an SMTP client for the end-to-end tests; prints every reply.

  send     --port P --from F --to R [--to R...] FILE [FILE...]
           Python's smtplib: EHLO, then one transaction per FILE on the same
           connection, then QUIT.  FILE is sent as its bytes (smtplib only
           dot-stuffs them and adds the terminator).  Exit 0 when every DATA
           got a 2xx.
  pipeline --port P --from F --to R [--to R...] FILE
           a raw socket: EHLO, then MAIL, every RCPT and DATA in one write
           (RFC 2920), then the dot-stuffed FILE, then QUIT.
  raw      --port P --from F --to R [--to R...] FILE
           EHLO, MAIL, RCPT, DATA one at a time, then FILE's bytes exactly as
           they are (no stuffing, no terminator added: FILE carries its own),
           one reply, then QUIT and every reply until the server closes.
  cmd      --port P LINE
           EHLO, then LINE + CRLF, its reply, then QUIT as for raw.
  greet    --port P
           read until the server closes, sending nothing.

Output lines are "STEP CODE TEXT" (a multi-line text joined with " | "),
"EOF" when the server closed, "RESET" when it reset the connection.
"""

import argparse
import smtplib
import socket
import sys

TIMEOUT = 60	# a deadline against a hung peer, not a measurement


def say(step, code, text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    print(f"{step} {code} {text.replace(chr(10), ' | ')}".rstrip(), flush=True)


def cmd_send(o):
    s = smtplib.SMTP(o.host, o.port, local_hostname="client.test",
                     timeout=TIMEOUT)
    code, text = s.ehlo()
    say("EHLO", code, text)
    ok = True
    for path in o.files:
        with open(path, "rb") as f:
            body = f.read()
        code, text = s.mail(o.sender)
        say("MAIL", code, text)
        accepted = 0
        for r in o.rcpt:
            code, text = s.rcpt(r)
            say(f"RCPT {r}", code, text)
            accepted += code // 100 == 2
        if not accepted:
            code, text = s.rset()
            say("RSET", code, text)
            ok = False
            continue
        try:
            code, text = s.data(body)
        except smtplib.SMTPDataError as e:
            code, text = e.smtp_code, e.smtp_error
        say("DATA", code, text)
        ok = ok and code // 100 == 2
    code, text = s.quit()
    say("QUIT", code, text)
    return 0 if ok else 1


class Raw:
    """A bare socket that reads SMTP replies."""

    def __init__(self, o):
        self.sock = socket.create_connection((o.host, o.port), timeout=TIMEOUT)
        self.rfile = self.sock.makefile("rb")

    def reply(self):
        """(code, text) of the next reply; (None, 'EOF'|'RESET') at the end."""
        lines = []
        try:
            while True:
                line = self.rfile.readline(65536)
                if not line:
                    return None, "EOF"
                line = line.rstrip(b"\r\n")
                lines.append(line[4:])
                if line[3:4] != b"-":
                    return int(line[:3]), b"\n".join(lines)
        except ConnectionResetError:
            return None, "RESET"

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            print("SEND-FAILED", flush=True)
            return False

    def step(self, name, data):
        """Send a command, print its reply, return the code."""
        self.send(data)
        code, text = self.reply()
        if code is None:
            print(text, flush=True)
        else:
            say(name, code, text)
        return code

    def drain(self, name):
        """Print every reply until the server closes."""
        while True:
            code, text = self.reply()
            if code is None:
                print(text, flush=True)
                return
            say(name, code, text)

    def hello(self):
        code, text = self.reply()
        say("GREETING", code, text)
        if code != 220:
            self.drain("AFTER")
            sys.exit(1)
        return self.step("EHLO", b"EHLO client.test\r\n")

    def quit(self):
        self.send(b"QUIT\r\n")
        self.drain("AFTER")


def envelope_commands(o):
    cmds = [("MAIL", f"MAIL FROM:<{o.sender}>\r\n".encode())]
    cmds += [(f"RCPT {r}", f"RCPT TO:<{r}>\r\n".encode()) for r in o.rcpt]
    return cmds


def dot_stuff(body):
    lines = body.split(b"\r\n")
    out = b"\r\n".join(b"." + l if l.startswith(b".") else l for l in lines)
    if not out.endswith(b"\r\n"):
        out += b"\r\n"
    return out + b".\r\n"


def cmd_pipeline(o):
    r = Raw(o)
    r.hello()
    cmds = envelope_commands(o) + [("DATA", b"DATA\r\n")]
    r.send(b"".join(c for _, c in cmds))
    codes = []
    for name, _ in cmds:
        code, text = r.reply()
        if code is None:
            print(text, flush=True)
            return 1
        say(name, code, text)
        codes.append(code)
    if codes[-1] != 354:
        r.quit()
        return 1
    with open(o.files[0], "rb") as f:
        code = r.step("END", dot_stuff(f.read()))
    r.quit()
    return 0 if code and code // 100 == 2 else 1


def cmd_raw(o):
    r = Raw(o)
    r.hello()
    for name, line in envelope_commands(o):
        r.step(name, line)
    if r.step("DATA", b"DATA\r\n") == 354:
        with open(o.files[0], "rb") as f:
            r.step("END", f.read())
    r.quit()
    return 0


def cmd_cmd(o):
    r = Raw(o)
    r.hello()
    r.step("CMD", o.line.encode() + b"\r\n")
    r.quit()
    return 0


def cmd_greet(o):
    Raw(o).drain("GREETING")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["send", "pipeline", "raw", "cmd", "greet"])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--from", dest="sender", default="alice@example.org")
    p.add_argument("--to", dest="rcpt", action="append", default=[])
    p.add_argument("args", nargs="*", help="FILE... or LINE")
    o = p.parse_intermixed_args()
    o.files = o.args
    o.line = o.args[0] if o.args else ""
    try:
        return globals()["cmd_" + o.mode](o)
    except socket.timeout:
        print("TIMEOUT", flush=True)
        return 2
    except smtplib.SMTPServerDisconnected as e:
        print(f"DISCONNECTED {e}", flush=True)
        return 1
    except smtplib.SMTPResponseException as e:
        say("ERROR", e.smtp_code, e.smtp_error)
        return 1


if __name__ == "__main__":
    sys.exit(main())
