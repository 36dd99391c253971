#!/usr/bin/env python3
"""A real SMTP server for Herald's tests (aiosmtpd).

Every accepted message is written to DIR as one file per recipient, named
<counter>.eml, with the envelope recipient in an X-Envelope-To first line removed
before parsing by the checker. Prints "ready PORT" once it listens.

  smtp_server.py --port 0 --dir DIR [--reject-first N] [--reject-code 451]
                 [--tls-cert PEM --tls-key PEM] [--auth USER:PASSWORD]
                 [--pipelining] [--close-every N] [--stall-after N]
With --tls-cert it offers STARTTLS and requires it; with --auth it requires AUTH (after TLS).
With --pipelining it offers PIPELINING (RFC 2920); without it, a command that arrives with
more behind it is refused, as Postfix refuses improper pipelining.
A recipient whose local part is refuse-NNN-… is refused with reply NNN.
--close-every N answers the Nth MAIL of a connection with 421 and closes it (as relays that
limit messages per connection do);
--stall-after N never answers a MAIL after the Nth message was accepted (with --trickle it
sends one byte of a reply that never ends every 0.2 s instead).
"""
import argparse
import asyncio
import itertools
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, directory, reject_first, reject_code, pipelining=False, close_every=0, stall_after=0,
                 trickle=False):
        self.directory = directory
        self.counter = itertools.count(1)
        self.rejects_left = reject_first
        self.reject_code = reject_code
        self.pipelining = pipelining
        self.close_every = close_every
        self.stall_after = stall_after
        self.trickle = trickle
        self.accepted = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    def improperly_pipelined(self, server):
        # Bytes already waiting behind this command: the client did not wait for the reply.
        return not self.pipelining and len(getattr(server._reader, "_buffer", b"")) > 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.improperly_pipelined(server):
            return "554 5.5.0 improper command pipelining"
        session.mails = getattr(session, "mails", 0) + 1
        if self.close_every and session.mails == self.close_every:
            server.transport.close()
            return "421 4.3.2 closing the connection"
        if self.stall_after and self.accepted >= self.stall_after:
            for _ in range(18000):
                if self.trickle:
                    server.transport.write(b"2")
                await asyncio.sleep(0.2)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.improperly_pipelined(server):
            return "554 5.5.0 improper command pipelining"
        local = address.split("@")[0]
        if local.startswith("refuse-") and local[7:10].isdigit():
            return f"{local[7:10]} refused as asked"
        if self.rejects_left > 0:
            self.rejects_left -= 1
            return f"{self.reject_code} try again later" if self.reject_code < 500 else f"{self.reject_code} no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.accepted += 1
        for rcpt in envelope.rcpt_tos:
            number = next(self.counter)
            temporary = os.path.join(self.directory, f".{number}.tmp")
            with open(temporary, "wb") as f:
                f.write(b"X-Envelope-To: " + rcpt.encode() + b"\r\n")
                f.write(b"X-Envelope-From: " + envelope.mail_from.encode() + b"\r\n")
                f.write(envelope.original_content)
            os.rename(temporary, os.path.join(self.directory, f"{number}.eml"))
        return "250 Message accepted"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--reject-first", type=int, default=0)
    parser.add_argument("--reject-code", type=int, default=451)
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--tls-key", default="")
    parser.add_argument("--auth", default="")
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--close-every", type=int, default=0)
    parser.add_argument("--stall-after", type=int, default=0)
    parser.add_argument("--trickle", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    options = {}
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        options.update(tls_context=context, require_starttls=True)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            if ok:
                with open(os.path.join(args.dir, "auth.log"), "a") as log:
                    log.write(f"{mechanism} {user}\n")
            # handled=False: aiosmtpd then answers 535 itself (its default would answer nothing).
            return AuthResult(success=True) if ok else AuthResult(success=False, handled=False)
        options.update(authenticator=authenticate, auth_required=True, auth_require_tls=bool(args.tls_cert))
    saver = Saver(args.dir, args.reject_first, args.reject_code, args.pipelining, args.close_every, args.stall_after,
                  args.trickle)
    controller = Controller(saver, hostname="127.0.0.1", port=port,
                            decode_data=False, data_size_limit=10 * 1024 * 1024, **options)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        sys.stdin.read()   # run until the test closes our stdin (or kills us)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
