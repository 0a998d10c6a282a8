#!/usr/bin/python3
"""hostile_upstream.py - upstream SMTP servers that misbehave, for the e2e tests.

  --mode record          a real server (aiosmtpd, as upstream.py) that
                         accepts everything, optionally slow to answer the
                         end of DATA (--dot-delay MIN:MAX milliseconds, from
                         a seeded PRNG): a daemon killed while it waits is
                         killed "mid-delivery".
  --mode starttls-inject offers STARTTLS; its "220 go ahead" carries, in the
                         same write, replies for the commands that follow
                         (the CVE-2011-0411 injection); then TLS
                         (--cert/--key) and a strict server that logs
                         VIOLATION when a command arrives before the reply
                         to the previous one (it offers no PIPELINING): a
                         client that took the injected replies would run
                         ahead.
  --mode endless         answers the greeting (--where greeting) or EHLO
                         (--where ehlo) with "NNN-" lines that never end.
  --mode silent          accepts the connection and never says a word.
  --mode starttls-fail   offers STARTTLS, then --how 454 (refuses it),
                         garbage (says 220, then sends plaintext that is
                         not TLS) or close (says 220 and hangs up).  Any
                         AUTH or MAIL that follows in plaintext is logged as
                         PLAINTEXT-AUTH / PLAINTEXT-MAIL (and lured on with
                         250s): a downgrade.
  --mode auth-plaintext  offers AUTH PLAIN LOGIN and no STARTTLS; an AUTH
                         is logged as PLAINTEXT-AUTH (a password in the
                         clear).

Accepted messages go to OUTDIR as NNNN.eml (+ NNNN.json), like upstream.py,
so the tests count them the same way.  --log gets "conn=N EVENT" lines:
CONNECT, every command verb, TLS, INJECTED, VIOLATION, ENDLESS lines=N,
PLAINTEXT-AUTH, PLAINTEXT-MAIL, ACCEPT NNNN, CLOSE.  Prints "READY port".
Runs with /usr/bin/python3 (3.11: asyncio's start_tls on streams).
"""

import argparse
import asyncio
import json
import os
import random
import signal
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# A reply line we read from a client: far above any real command.
LINE_MAX = 65536
# Connections waiting to be accepted: the load tests open hundreds at once,
# and a full backlog would look like a server that never greets.
BACKLOG = 4096
# How long the strict server waits before answering, to see whether the
# client runs ahead of the replies.
STRICT_PAUSE = 0.05


class Log:
    def __init__(self, outdir, path):
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)
        taken = [int(f[:4]) for f in os.listdir(outdir)
                 if f.endswith(".eml") and f[:4].isdigit()]
        self.next_msg = max(taken, default=0) + 1
        self.next_conn = 1
        if path and os.path.exists(path):
            with open(path) as f:
                self.next_conn += sum(" CONNECT" in line for line in f)
        self.f = open(path, "a", buffering=1) if path else None

    def event(self, conn, text):
        if self.f:
            self.f.write(f"conn={conn} {text}\n")

    def store(self, mail_from, rcpts, data):
        n = self.next_msg
        self.next_msg += 1
        base = os.path.join(self.outdir, f"{n:04d}")
        meta = {"mail_from": mail_from, "rcpt_tos": rcpts}
        for suffix, blob in ((".json", json.dumps(meta).encode()),
                             (".eml", data)):
            with open(base + suffix + ".tmp", "wb") as f:
                f.write(blob)
            os.rename(base + suffix + ".tmp", base + suffix)
        return n


def unstuff(lines):
    return b"".join(l[1:] if l.startswith(b".") else l for l in lines)


class Raw:
    """One connection of a hand-driven server."""

    def __init__(self, opts, log, reader, writer):
        self.o, self.log = opts, log
        self.r, self.w = reader, writer
        self.conn = log.next_conn
        log.next_conn += 1
        self.tls = False
        self.mail_from, self.rcpts = None, []

    def ev(self, text):
        self.log.event(self.conn, text)

    async def send(self, text):
        self.w.write(text.encode() if isinstance(text, str) else text)
        await self.w.drain()

    async def line(self):
        try:
            line = await self.r.readuntil(b"\n")
        except asyncio.IncompleteReadError as e:
            return e.partial or None
        except asyncio.LimitOverrunError:
            return None
        return line

    def ahead(self):
        """Bytes the client sent before we answered its last command."""
        return len(self.r._buffer)

    async def data(self):
        lines = []
        while True:
            l = await self.line()
            if l is None:
                return None
            if l == b".\r\n":
                return unstuff(lines)
            lines.append(l)

    async def starttls(self):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.o.cert, self.o.key)
        await self.w.start_tls(ctx)
        self.tls = True
        self.ev("TLS starttls")

    async def serve(self, ehlo_caps, strict=False, on_cmd=None):
        """A small lockstep SMTP server; on_cmd may take a command over."""
        while True:
            l = await self.line()
            if l is None:
                return
            verb = l.split(b" ", 1)[0].strip().upper().decode("ascii",
                                                              "replace")
            shown = verb if verb == "AUTH" else l.decode(
                "utf-8", "replace").rstrip("\r\n")
            self.ev(shown.split(":", 1)[0] if verb in ("MAIL", "RCPT")
                    else shown.split(" ")[0] if verb == "AUTH" else verb)
            if strict:
                await asyncio.sleep(STRICT_PAUSE)
                if self.ahead():
                    self.ev(f"VIOLATION {verb} ran ahead by "
                            f"{self.ahead()} bytes")
            if on_cmd and await on_cmd(self, verb, l):
                continue
            if verb in ("EHLO", "HELO"):
                caps = ["hostile.test"] + ehlo_caps(self)
                text = "".join(f"250-{c}\r\n" for c in caps[:-1])
                await self.send(text + f"250 {caps[-1]}\r\n")
            elif verb == "MAIL":
                self.mail_from = l[10:].strip().decode("utf-8", "replace")
                self.rcpts = []
                await self.send("250 2.1.0 Ok\r\n")
            elif verb == "RCPT":
                self.rcpts.append(l[8:].strip().decode("utf-8", "replace"))
                await self.send("250 2.1.5 Ok\r\n")
            elif verb == "DATA":
                await self.send("354 go ahead\r\n")
                body = await self.data()
                if body is None:
                    return
                n = self.log.store(self.mail_from, self.rcpts, body)
                self.ev(f"ACCEPT {n:04d} bytes={len(body)}")
                await self.send(f"250 2.0.0 accepted as {n:04d}\r\n")
            elif verb in ("RSET", "NOOP"):
                await self.send("250 2.0.0 Ok\r\n")
            elif verb == "QUIT":
                await self.send("221 2.0.0 Bye\r\n")
                return
            else:
                await self.send("502 5.5.2 not here\r\n")


# ---------------------------------------------------------------- modes

async def mode_starttls_inject(c):
    await c.send("220 hostile.test ESMTP\r\n")

    def caps(c):
        return ["8BITMIME"] if c.tls else ["8BITMIME", "STARTTLS"]

    async def on_cmd(c, verb, line):
        if verb != "STARTTLS" or c.tls:
            return False
        # The go-ahead and, in the same segment, what a client that reads
        # past it would take for the replies to its next commands.
        await c.send("220 2.0.0 go ahead\r\n"
                     "250-hostile.test\r\n250 AUTH PLAIN\r\n"
                     "250 2.1.0 injected MAIL ok\r\n"
                     "250 2.1.5 injected RCPT ok\r\n"
                     "354 injected go ahead\r\n")
        c.ev("INJECTED")
        await c.starttls()
        return True

    await c.serve(caps, strict=True, on_cmd=on_cmd)


async def mode_endless(c):
    n = 0
    if c.o.where == "ehlo":
        await c.send("220 hostile.test ESMTP\r\n")
        l = await c.line()
        if l is None:
            return
        c.ev(l.split(b" ")[0].decode("ascii", "replace").strip())
        code = "250"
    else:
        code = "220"
    try:
        while True:
            # Small writes: the peer decides how fast this goes.
            await c.send("".join(f"{code}-line {n + i} of a reply that "
                                 "never ends\r\n" for i in range(64)))
            n += 64
    except (ConnectionError, OSError):
        pass
    finally:
        c.ev(f"ENDLESS lines={n}")


async def mode_silent(c):
    while await c.r.read(65536):
        pass


async def mode_starttls_fail(c):
    await c.send("220 hostile.test ESMTP\r\n")

    def caps(c):
        return ["AUTH PLAIN LOGIN", "STARTTLS"]

    async def on_cmd(c, verb, line):
        if verb == "STARTTLS":
            if c.o.how == "454":
                await c.send("454 4.7.0 TLS not available now\r\n")
            elif c.o.how == "garbage":
                await c.send("220 2.0.0 go ahead\r\n")
                await c.send("this is not a TLS record\r\n" * 4)
            else:
                await c.send("220 2.0.0 go ahead\r\n")
                c.w.close()
            return True
        if verb == "AUTH":
            c.ev("PLAINTEXT-AUTH")
            await c.send("235 2.7.0 ok\r\n")
            return True
        if verb == "MAIL":
            c.ev("PLAINTEXT-MAIL")
        return False

    await c.serve(caps, on_cmd=on_cmd)


async def mode_auth_plaintext(c):
    await c.send("220 hostile.test ESMTP\r\n")

    async def on_cmd(c, verb, line):
        if verb == "AUTH":
            c.ev("PLAINTEXT-AUTH")
            await c.send("235 2.7.0 ok\r\n")
            return True
        return False

    await c.serve(lambda c: ["AUTH PLAIN LOGIN", "8BITMIME"], on_cmd=on_cmd)


RAW_MODES = {
    "starttls-inject": mode_starttls_inject,
    "endless": mode_endless,
    "silent": mode_silent,
    "starttls-fail": mode_starttls_fail,
    "auth-plaintext": mode_auth_plaintext,
}


def run_raw(opts, log, loop):
    async def handle(reader, writer):
        c = Raw(opts, log, reader, writer)
        peer = writer.get_extra_info("peername")
        c.ev(f"CONNECT {peer[0]}:{peer[1]}")
        try:
            await RAW_MODES[opts.mode](c)
        except (ConnectionError, OSError, ssl.SSLError) as e:
            c.ev(f"ERROR {type(e).__name__}")
        finally:
            c.ev("CLOSE")
            writer.close()

    return loop.run_until_complete(asyncio.start_server(
        handle, opts.host, opts.port, limit=LINE_MAX, backlog=BACKLOG))


# ---------------------------------------------------------------- record

def run_record(opts, log, loop):
    """aiosmtpd, as upstream.py, with a slow answer to the end of DATA."""
    from aiosmtpd.smtp import SMTP

    rnd = random.Random(opts.seed)
    lo, hi = (int(x) for x in opts.dot_delay.split(":"))

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            delay = rnd.randint(lo, hi) / 1000.0
            if delay:
                await asyncio.sleep(delay)
            n = log.store(envelope.mail_from, envelope.rcpt_tos,
                          envelope.original_content)
            log.event(server.conn, f"ACCEPT {n:04d} "
                      f"bytes={len(envelope.original_content)}")
            return f"250 2.0.0 Ok: accepted by upstream as {n:04d}"

        async def handle_EHLO(self, server, session, envelope, hostname,
                              responses):
            session.host_name = hostname
            return [r for r in responses if r.rstrip() != "250-AUTH"]

    class Recording(SMTP):
        def connection_made(self, transport):
            self.conn = log.next_conn
            log.next_conn += 1
            log.event(self.conn, "CONNECT")
            super().connection_made(transport)

        def connection_lost(self, error):
            log.event(self.conn, "CLOSE")
            super().connection_lost(error)

    handler = Handler()

    def factory():
        return Recording(handler, hostname="upstream.test",
                         data_size_limit=256 * 1024 * 1024,
                         auth_exclude_mechanism=["PLAIN", "LOGIN"])

    return loop.run_until_complete(loop.create_server(
        factory, host=opts.host, port=opts.port, backlog=BACKLOG))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", required=True,
                   choices=["record"] + sorted(RAW_MODES))
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--log")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--where", choices=["greeting", "ehlo"], default="ehlo")
    p.add_argument("--how", choices=["454", "garbage", "close"],
                   default="454")
    p.add_argument("--dot-delay", default="0:0", metavar="MIN:MAX")
    p.add_argument("--seed", type=int, default=1)
    opts = p.parse_args()
    if opts.mode == "starttls-inject" and not (opts.cert and opts.key):
        p.error("starttls-inject needs --cert and --key")

    log = Log(opts.outdir, opts.log)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if opts.mode == "record":
        server = run_record(opts, log, loop)
    else:
        server = run_raw(opts, log, loop)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    loop.run_forever()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
