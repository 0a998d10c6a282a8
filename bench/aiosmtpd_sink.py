#!/usr/bin/python3
"""aiosmtpd_sink.py - an SMTP sink that can offer STARTTLS, for relay_bench.sh.

smtp-sink(1) cannot speak TLS, so the STARTTLS part of the benchmark relays
to this instead.  It listens on 127.0.0.1:PORT, throws every message away,
and counts them: for every message, before it answers the final ".", it
writes one line to stdout

    messages=N tls=T plain=P

(T of the N so far arrived inside a TLS session), so that the benchmark can
prove the relay really delivered, and really used TLS.  SIGTERM or SIGINT
stops it.

usage: aiosmtpd_sink.py PORT [CERT KEY]   (with CERT and KEY: offer STARTTLS)
"""

import asyncio
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP


class CountingHandler:
    def __init__(self):
        self.messages = 0
        self.tls = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        if session.ssl is not None:
            self.tls += 1
        self.report()
        return "250 2.0.0 Ok: discarded"

    def report(self):
        sys.stdout.write("messages=%d tls=%d plain=%d\n" % (
            self.messages, self.tls, self.messages - self.tls))
        sys.stdout.flush()


def main(argv):
    if len(argv) not in (2, 4):
        sys.exit(__doc__.strip().splitlines()[-1])
    port = int(argv[1])
    tls_context = None
    if len(argv) == 4:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(argv[2], argv[3])

    handler = CountingHandler()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)

    # data_size_limit 0: no limit; the benchmark decides the sizes.
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="aiosmtpd-sink",
                     tls_context=tls_context, data_size_limit=0,
                     decode_data=False, loop=loop),
        host="127.0.0.1", port=port, backlog=1000, reuse_address=True))
    loop.run_until_complete(stop)
    server.close()


if __name__ == "__main__":
    main(sys.argv)
