#!/usr/bin/python3
"""upstream.py - a recording upstream SMTP server for the end-to-end tests.

A real SMTP implementation (aiosmtpd 1.4) with the knobs the scenarios need:
STARTTLS or implicit TLS, AUTH (PLAIN, LOGIN, CRAM-MD5 by default; XOAUTH2,
OAUTHBEARER and SCRAM-SHA-256 when --auth-mechs names them), refused
recipients, and one fault: closing the connection in the middle of DATA
(after exactly N bytes of it, without a reply).

--pop-window FILE:SECONDS is POP-before-SMTP: every RCPT gets "554 5.7.1
Relay access denied" (and the log a RELAY-DENIED line with the login's
age) unless FILE, which the POP3 server's post-login script appends to at
each login (tests/lib/dovecot.sh), changed within SECONDS.

--auth USER:SECRET is the one account: SECRET is the password, and for
XOAUTH2/OAUTHBEARER the one bearer token accepted.  Any other token gets
what Gmail (XOAUTH2) and RFC 7628 (OAUTHBEARER) answer to an expired one: a
334 with a base64 JSON error, the client's dummy response, then 535.

Every accepted message is written to OUTDIR as NNNN.json (the envelope) and
then NNNN.eml (the DATA bytes as received, after aiosmtpd removed the
transparency dots and nothing else: aiosmtpd splits DATA on CRLF only and
keeps every other byte, bare CR and LF included).  Both are renamed into
place, the .eml last, so a waiter can poll for the .eml.

--log FILE gets one line per event, "conn=N EVENT ...": CONNECT, TLS, every
command verb as received (AUTH with its mechanism only), AUTH-OK/AUTH-FAIL
(with the mechanism and user; OAUTHBEARER adds the host and port the client
named, a refused token adds status=), ACCEPT, DROP, CLOSE.  Tokens and
passwords are never logged.  The scenarios count connections and AUTHs from
it.

Prints "READY port" on stdout once it listens.  Runs with /usr/bin/python3.
"""

import argparse
import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import signal
import ssl
import sys
import time

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword

# Every mechanism this server knows; the ones not asked for are excluded.
ALL_MECHS = ["PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER",
             "SCRAM-SHA-256"]
DEFAULT_MECHS = ["PLAIN", "LOGIN", "CRAM-MD5"]


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
        self.pop_file = self.pop_window = None
        if opts.pop_window:
            path, seconds = opts.pop_window.rsplit(":", 1)
            self.pop_file, self.pop_window = path, float(seconds)
        self.user = self.password = None
        if opts.auth:
            user, password = opts.auth.split(":", 1)
            self.user, self.password = user.encode(), password.encode()
        self.scram_iterations = opts.scram_iterations
        self.scram_bad_signature = opts.scram_bad_signature

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # With AUTH off aiosmtpd would still offer an empty "AUTH" line.
        session.host_name = hostname
        return [r for r in responses if r.rstrip() != "250-AUTH"]

    def pop_login_age(self):
        """Seconds since the last POP3 login, or None for never."""
        try:
            return time.time() - os.path.getmtime(self.pop_file)
        except FileNotFoundError:
            return None

    async def handle_RCPT(self, server, session, envelope, address, options):
        # POP-before-SMTP (--pop-window): relay only for a while after a
        # POP3 login, which the POP3 server's post-login script records.
        if self.pop_file is not None:
            age = self.pop_login_age()
            if age is None or age > self.pop_window:
                shown = "never" if age is None else f"{age:.1f}s"
                self.rec.event(server.conn, f"RELAY-DENIED login_age={shown}")
                return "554 5.7.1 Relay access denied"
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


    async def _initial(self, server, args):
        """The initial response, or the answer to an empty 334."""
        if len(args) == 2:
            if args[1] == "=":
                return b""
            try:
                return base64.b64decode(args[1], validate=True)
            except binascii.Error:
                await server.push("501 5.5.2 Can't decode base64")
                return MISSING
        return await server.challenge_auth("")

    async def _refuse_token(self, server, mech, user, error, dummy):
        """The expired-token dance: 334 with the JSON error, the client's
        dummy response, 535."""
        answer = await server.challenge_auth(json.dumps(error).encode())
        self.rec.event(server.conn, "AUTH-FAIL %s user=%s status=%s%s" % (
            mech, user.decode(errors="replace"), error["status"],
            "" if answer == dummy else " bad-dummy-response"))
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Username and Password not "
                          "accepted (token refused)")

    # Google's XOAUTH2: "user=U\1auth=Bearer T\1\1".
    async def auth_XOAUTH2(self, server, args):
        data = await self._initial(server, args)
        if data is MISSING:
            return AuthResult(success=False, handled=True)
        parts = data.split(b"\x01")
        if (len(parts) != 4 or parts[2:] != [b"", b""]
                or not parts[0].startswith(b"user=")
                or not parts[1].startswith(b"auth=Bearer ")):
            self.rec.event(server.conn, "AUTH-FAIL XOAUTH2 malformed")
            return AuthResult(success=False, handled=False,
                              message="501 5.5.2 Malformed XOAUTH2")
        user, token = parts[0][5:], parts[1][12:]
        if user == self.user and token == self.password:
            self.rec.event(server.conn, "AUTH-OK XOAUTH2 user=%s" %
                           user.decode(errors="replace"))
            return AuthResult(success=True,
                              auth_data=LoginPassword(user, b""))
        return await self._refuse_token(
            server, "XOAUTH2", user,
            {"status": "401", "schemes": "Bearer",
             "scope": "https://mail.google.com/"}, b"")

    # RFC 7628: gs2 header "n,a=U," then \1-separated key=value pairs.
    async def auth_OAUTHBEARER(self, server, args):
        data = await self._initial(server, args)
        if data is MISSING:
            return AuthResult(success=False, handled=True)
        gs2, sep, rest = data.partition(b"\x01")
        fields = gs2.split(b",")
        kv = rest.split(b"\x01")
        pairs = dict(p.split(b"=", 1) for p in kv[:-2] if b"=" in p)
        if (not sep or len(fields) != 3 or fields[0] != b"n"
                or not fields[1].startswith(b"a=") or fields[2] != b""
                or kv[-2:] != [b"", b""] or len(pairs) != len(kv) - 2
                or not pairs.get(b"auth", b"").startswith(b"Bearer ")):
            self.rec.event(server.conn, "AUTH-FAIL OAUTHBEARER malformed")
            return AuthResult(success=False, handled=False,
                              message="501 5.5.2 Malformed OAUTHBEARER")
        user = fields[1][2:].replace(b"=2C", b",").replace(b"=3D", b"=")
        token = pairs[b"auth"][7:]
        where = "host=%s port=%s" % (pairs.get(b"host", b"-").decode(),
                                     pairs.get(b"port", b"-").decode())
        if user == self.user and token == self.password:
            self.rec.event(server.conn, "AUTH-OK OAUTHBEARER user=%s %s" %
                           (user.decode(errors="replace"), where))
            return AuthResult(success=True,
                              auth_data=LoginPassword(user, b""))
        return await self._refuse_token(
            server, "OAUTHBEARER", user,
            {"status": "invalid_token", "scope": "mail",
             "openid-configuration":
             "https://upstream.test/.well-known/openid-configuration"},
            b"\x01")

    # RFC 5802 / 7677, the server side, without channel binding.
    async def auth_SCRAM__SHA__256(self, server, args):
        def fail(why, code="535 5.7.8 Authentication credentials invalid"):
            self.rec.event(server.conn, f"AUTH-FAIL SCRAM-SHA-256 {why}")
            return AuthResult(success=False, handled=False, message=code)

        def h(key, msg):
            return hmac.new(key, msg, hashlib.sha256).digest()

        first = await self._initial(server, args)
        if first is MISSING:
            return AuthResult(success=False, handled=True)
        if not first.startswith(b"n,,"):
            return fail("gs2-header", "501 5.5.2 Bad SCRAM gs2 header")
        bare = first[3:]
        attrs = bare.split(b",")
        if (len(attrs) < 2 or not attrs[0].startswith(b"n=")
                or not attrs[1].startswith(b"r=")):
            return fail("client-first", "501 5.5.2 Bad SCRAM message")
        user = attrs[0][2:].replace(b"=2C", b",").replace(b"=3D", b"=")
        nonce = attrs[1][2:] + secrets.token_urlsafe(18).encode()
        salt = secrets.token_bytes(16)
        salted = hashlib.pbkdf2_hmac("sha256", self.password or b"", salt,
                                     self.scram_iterations)
        server_first = b"r=%s,s=%s,i=%d" % (
            nonce, base64.b64encode(salt), self.scram_iterations)
        final = await server.challenge_auth(server_first)
        if final is MISSING:
            return AuthResult(success=False, handled=True)
        without_proof, _, proof = final.rpartition(b",p=")
        if without_proof != b"c=biws,r=" + nonce:
            return fail("client-final", "501 5.5.2 Bad SCRAM message")
        auth_message = bare + b"," + server_first + b"," + without_proof
        stored_key = hashlib.sha256(h(salted, b"Client Key")).digest()
        try:
            proof = base64.b64decode(proof, validate=True)
        except binascii.Error:
            proof = b""
        client_key = bytes(a ^ b for a, b in zip(
            proof, h(stored_key, auth_message)))
        if (user != self.user or len(proof) != 32 or not hmac.compare_digest(
                hashlib.sha256(client_key).digest(), stored_key)):
            return fail("user=%s" % user.decode(errors="replace"))
        signature = h(h(salted, b"Server Key"), auth_message)
        if self.scram_bad_signature:
            signature = bytes([signature[0] ^ 1]) + signature[1:]
        answer = await server.challenge_auth(
            b"v=" + base64.b64encode(signature))
        if answer is MISSING or answer != b"":
            return fail("no-final-response", "501 5.5.2 Expected an "
                        "empty response")
        self.rec.event(server.conn, "AUTH-OK SCRAM-SHA-256 user=%s" %
                       user.decode(errors="replace"))
        return AuthResult(success=True, auth_data=LoginPassword(user, b""))


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
                   help="require AUTH; PASS is also the accepted OAuth2 "
                   "bearer token")
    p.add_argument("--auth-mechs", metavar="MECH,...",
                   help="the mechanisms offered, from " + ",".join(ALL_MECHS)
                   + " (default: " + ",".join(DEFAULT_MECHS) + ")")
    p.add_argument("--scram-iterations", type=int, default=4096)
    p.add_argument("--scram-bad-signature", action="store_true",
                   help="send a wrong SCRAM server signature (v=)")
    p.add_argument("--auth-require-tls", action="store_true",
                   help="offer AUTH only after STARTTLS")
    p.add_argument("--reject-rcpt", action="append", default=[],
                   metavar="ADDR:CODE:TEXT")
    p.add_argument("--pop-window", metavar="FILE:SECONDS",
                   help="POP-before-SMTP: refuse every RCPT with 554 5.7.1 "
                   "unless FILE (a POP3 login record) changed within SECONDS")
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

    mechs = []
    if opts.auth:
        mechs = (opts.auth_mechs.replace(",", " ").split()
                 if opts.auth_mechs else DEFAULT_MECHS)

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
            auth_exclude_mechanism=[m for m in ALL_MECHS if m not in mechs])

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
