"""A real SMTP server for the black-box tests: aiosmtpd on 127.0.0.1:PORT. Each message it
receives is written to DIR as JSON: {"from", "to", "subject", "text", "html"}, the two bodies
decoded from their MIME parts.

Usage: smtp_sink.py PORT DIR (installed by .ci/run into target/smtp-venv)."""
import email
import email.policy
import json
import os
import sys
import threading
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        bodies = {}
        for part in message.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                bodies[part.get_content_type()] = part.get_content()
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "text": bodies.get("text/plain"),
            "html": bodies.get("text/html"),
        }
        name = os.path.join(self.directory, uuid.uuid4().hex)
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name + ".json")  # readers never see half a message
        return "250 Message accepted for delivery"


if __name__ == "__main__":
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()
