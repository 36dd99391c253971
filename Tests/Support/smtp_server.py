#!/usr/bin/env python3
"""A real SMTP server for Herald's tests (aiosmtpd).

Every accepted message is written to DIR as one file per recipient, named
<counter>.eml, with the envelope recipient in an X-Envelope-To first line removed
before parsing by the checker. Prints "ready PORT" once it listens.

  smtp_server.py --port 0 --dir DIR [--reject-first N] [--reject-code 451]
"""
import argparse
import asyncio
import itertools
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Saver:
    def __init__(self, directory, reject_first, reject_code):
        self.directory = directory
        self.counter = itertools.count(1)
        self.rejects_left = reject_first
        self.reject_code = reject_code

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rejects_left > 0:
            self.rejects_left -= 1
            return f"{self.reject_code} try again later" if self.reject_code < 500 else f"{self.reject_code} no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
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
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = args.port or free_port()
    controller = Controller(Saver(args.dir, args.reject_first, args.reject_code), hostname="127.0.0.1", port=port,
                            decode_data=False, data_size_limit=10 * 1024 * 1024)
    controller.start()
    print(f"ready {port}", flush=True)
    try:
        sys.stdin.read()   # run until the test closes our stdin (or kills us)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
