#!/usr/bin/python3
"""upstream.py - a recording upstream SMTP server for the end-to-end tests.

A real SMTP implementation (aiosmtpd 1.4) with the knobs the scenarios need:
STARTTLS or implicit TLS, AUTH (PLAIN, LOGIN, CRAM-MD5), refused recipients,
and one fault: closing the connection in the middle of DATA (after exactly
N bytes of it, without a reply).

Every accepted message is written to OUTDIR as NNNN.json (the envelope) and
then NNNN.eml (the DATA bytes as received, after aiosmtpd removed the
transparency dots and nothing else: aiosmtpd splits DATA on CRLF only and
keeps every other byte, bare CR and LF included).  Both are renamed into
place, the .eml last, so a waiter can poll for the .eml.

--log FILE gets one line per event, "conn=N EVENT ...": CONNECT, TLS, every
command verb as received (AUTH with its mechanism only), AUTH-OK/AUTH-FAIL,
ACCEPT, DROP, CLOSE.  The scenarios count connections and AUTHs from it.

Prints "READY port" on stdout once it listens.  Runs with /usr/bin/python3.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import secrets
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    """Numbered message files and the event log, shared by all connections."""

    def __init__(self, outdir, logpath):
        self.outdir = outdir
        os.makedirs(outdir, exist_ok=True)
        # Continue the numbering of an earlier run on the same folder.
        taken = [int(f[:4]) for f in os.listdir(outdir)
                 if f.endswith(".eml") and f[:4].isdigit()]
        self.next_msg = max(taken, default=0) + 1
        # Connection numbers go on too, so that they stay unique in the log.
        self.next_conn = 1
        if logpath and os.path.exists(logpath):
            with open(logpath) as f:
                self.next_conn += sum(" CONNECT " in line for line in f)
        self.log = open(logpath, "a", buffering=1) if logpath else None

    def event(self, conn, text):
        if self.log:
            self.log.write(f"conn={conn} {text}\n")

    def store(self, envelope, auth_user):
        n = self.next_msg
        self.next_msg += 1
        base = os.path.join(self.outdir, f"{n:04d}")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "rcpt_options": envelope.rcpt_options,
            "auth_user": auth_user,
        }
        for suffix, data in ((".json", json.dumps(meta).encode()),
                             (".eml", envelope.original_content)):
            tmp = base + suffix + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.rename(tmp, base + suffix)
        return n


class Handler:
    """aiosmtpd hooks: refusals, CRAM-MD5, and storing what is accepted."""

    def __init__(self, rec, opts):
        self.rec = rec
        self.reject_rcpt = {}
        for spec in opts.reject_rcpt:
            addr, code, text = spec.split(":", 2)
            self.reject_rcpt[addr.lower()] = f"{code} {text}"
        self.reject_data = opts.reject_data
        self.user = self.password = None
        if opts.auth:
            user, password = opts.auth.split(":", 1)
            self.user, self.password = user.encode(), password.encode()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # With AUTH off aiosmtpd would still offer an empty "AUTH" line.
        session.host_name = hostname
        return [r for r in responses if r.rstrip() != "250-AUTH"]

    async def handle_RCPT(self, server, session, envelope, address, options):
        refusal = self.reject_rcpt.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self.reject_data:
            code, text = self.reject_data.split(":", 1)
            self.rec.event(server.conn, f"REFUSE-DATA {code}")
            return f"{code} {text}"
        data = session.auth_data
        user = data.login.decode() if data else None
        n = self.rec.store(envelope, user)
        self.rec.event(server.conn,
                       f"ACCEPT {n:04d} bytes={len(envelope.original_content)}")
        return f"250 2.0.0 Ok: accepted by upstream as {n:04d}"

    def authenticate(self, server, session, envelope, mechanism, data):
        ok = (data.login == self.user and data.password == self.password)
        self.rec.event(server.conn, "AUTH-%s %s user=%s" % (
            "OK" if ok else "FAIL", mechanism, data.login.decode(errors="replace")))
        if ok:
            return AuthResult(success=True, auth_data=data)
        return AuthResult(success=False, handled=False)

    # Found by aiosmtpd through its name: AUTH CRAM-MD5 (RFC 2195).
    async def auth_CRAM__MD5(self, server, args):
        if len(args) != 1:
            await server.push("501 5.5.4 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{secrets.token_hex(8)}@upstream.test>".encode()
        answer = await server.challenge_auth(challenge)
        if not isinstance(answer, bytes):
            return AuthResult(success=False, handled=True)
        login, _, digest = answer.partition(b" ")
        want = hmac.new(self.password or b"", challenge, hashlib.md5)
        ok = (login == self.user
              and hmac.compare_digest(digest, want.hexdigest().encode()))
        self.rec.event(server.conn, "AUTH-%s CRAM-MD5 user=%s" % (
            "OK" if ok else "FAIL", login.decode(errors="replace")))
        if ok:
            return AuthResult(success=True, auth_data=LoginPassword(login, b""))
        return AuthResult(success=False, handled=False)


class RecordingSMTP(SMTP):
    """aiosmtpd's SMTP, logging every connection and command, with the
    drop-mid-data fault."""

    def __init__(self, handler, rec, drop_after, implicit_tls, **kw):
        super().__init__(handler, **kw)
        self.rec = rec
        self.conn = rec.next_conn
        rec.next_conn += 1
        self.drop_after = drop_after
        self.implicit_tls = implicit_tls
        for verb, method in list(self._smtp_methods.items()):
            self._smtp_methods[verb] = self._logged(verb, method)

    def _logged(self, verb, method):
        async def logged(arg):
            if verb == "AUTH":
                # The mechanism only: an initial response carries secrets.
                shown = (arg or "").split(" ")[0]
            else:
                shown = arg or ""
            self.rec.event(self.conn, f"{verb} {shown}".rstrip())
            return await method(arg)
        return logged

    def connection_made(self, transport):
        upgrading = self._original_transport is not None
        super().connection_made(transport)
        if upgrading:
            self.rec.event(self.conn, "TLS starttls")
        else:
            peer = transport.get_extra_info("peername")
            self.rec.event(self.conn, f"CONNECT {peer[0]}:{peer[1]}")
            if self.implicit_tls:
                self.rec.event(self.conn, "TLS implicit")

    def connection_lost(self, error):
        self.rec.event(self.conn, "CLOSE")
        super().connection_lost(error)

    async def smtp_DATA(self, arg):
        if self.drop_after is None:
            return await super().smtp_DATA(arg)
        if not self.envelope.rcpt_tos:
            return await self.push("503 Error: need RCPT command")
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        got = 0
        while got < self.drop_after:
            chunk = await self._reader.read(min(65536, self.drop_after - got))
            if not chunk:
                break
            got += len(chunk)
        self.rec.event(self.conn, f"DROP after={got}")
        # As smtp_QUIT does: end the command loop too, or it would go on
        # reading the rest of DATA as commands.
        self._handler_coroutine.cancel()
        self.transport.abort()


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1",
                   help='an address, or "localhost" for 127.0.0.1 and ::1')
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--log")
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--no-starttls", action="store_true",
                   help="never offer STARTTLS, even with --starttls")
    p.add_argument("--auth", metavar="USER:PASS",
                   help="require AUTH (PLAIN, LOGIN, CRAM-MD5)")
    p.add_argument("--auth-require-tls", action="store_true",
                   help="offer AUTH only after STARTTLS")
    p.add_argument("--reject-rcpt", action="append", default=[],
                   metavar="ADDR:CODE:TEXT")
    p.add_argument("--reject-data", metavar="CODE:TEXT",
                   help="refuse every message at the end of DATA")
    p.add_argument("--drop-mid-data", type=int, metavar="N",
                   help="close the connection after N bytes of DATA")
    p.add_argument("--max-size", type=int, default=128 * 1024 * 1024)
    return p.parse_args()


def main():
    opts = parse_args()
    rec = Recorder(opts.outdir, opts.log)
    handler = Handler(rec, opts)
    starttls_ctx = None
    if opts.starttls and not opts.no_starttls:
        starttls_ctx = tls_context(*opts.starttls)
    implicit_ctx = tls_context(*opts.implicit_tls) if opts.implicit_tls else None

    def factory():
        return RecordingSMTP(
            handler, rec, opts.drop_mid_data, implicit_ctx is not None,
            data_size_limit=opts.max_size,
            hostname="upstream.test",
            tls_context=starttls_ctx,
            auth_required=bool(opts.auth),
            # Over implicit TLS the connection is already encrypted, which
            # aiosmtpd only knows of STARTTLS.
            auth_require_tls=opts.auth_require_tls and implicit_ctx is None,
            authenticator=handler.authenticate if opts.auth else None,
            auth_exclude_mechanism=None if opts.auth else
            ["PLAIN", "LOGIN", "CRAM-MD5"])

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # "localhost" is 127.0.0.1 and, where the machine has it, ::1: a client
    # may try either first.
    hosts = ["127.0.0.1", "::1"] if opts.host == "localhost" else [opts.host]
    servers = []
    for host in hosts:
        try:
            servers.append(loop.run_until_complete(loop.create_server(
                factory, host=host, port=opts.port, ssl=implicit_ctx)))
        except OSError:
            if not servers:
                raise
    port = servers[0].sockets[0].getsockname()[1]
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    print(f"READY {port}", flush=True)
    loop.run_forever()
    for server in servers:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
