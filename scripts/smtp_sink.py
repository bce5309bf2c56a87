#!/usr/bin/env python3
"""A real SMTP server for the tests (#24): accepts every message on
127.0.0.1:PORT and writes each one, decoded, as a JSON file in MAILDIR
(`{"to": [...], "subject", "message_id", "body"}`), named so that they sort
in the order received. Prints `ready` once it listens; stops on SIGTERM.

    python3 scripts/smtp_sink.py PORT MAILDIR
"""
import email
import email.policy
import json
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir):
        self.maildir = maildir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "to": list(envelope.rcpt_tos),
            "from": envelope.mail_from,
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "body": body.get_content() if body is not None else "",
        }
        self.count += 1
        name = f"{time.time_ns():020d}-{os.getpid()}-{self.count:06d}.json"
        partial = os.path.join(self.maildir, "." + name)
        with open(partial, "w", encoding="utf-8") as file:
            json.dump(record, file)
        os.replace(partial, os.path.join(self.maildir, name))
        return "250 OK"


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    os.makedirs(maildir, exist_ok=True)
    controller = Controller(Sink(maildir), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
