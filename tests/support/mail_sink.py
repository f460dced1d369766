"""A real SMTP server on the loopback (aiosmtpd) that keeps what it receives.

For tests/test_production.py and benchmarks/production.py: the rendered
project sends its emails over SMTP to it, as to a real mail server. It can
answer like a slow or a failing one, for the next recipient only, or hold
every sender before its message (tests/test_two_nodes.py).
"""

import asyncio
import threading
import time
from collections import Counter
from email import message_from_bytes

from aiosmtpd.controller import Controller

from support.harness import free_port, poll


class Recorder:
    """The aiosmtpd handler: records each message, and misbehaves on request."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []  # (recipients, subject)
        self.bodies = []  # the text of each message, in the same order
        self.received_at = []  # time.monotonic() of each message
        self.seen = set()  # recipients announced (RCPT), delivered or not
        self.slow = {}  # recipient -> seconds to wait before accepting it, once
        self.refuse = set()  # recipients refused once with a temporary error
        self.held = False  # True: every RCPT waits for release()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.seen.add(address)
            delay = self.slow.pop(address, 0)
            refused = address in self.refuse
            self.refuse.discard(address)
        if refused:
            return "451 Try again later"
        # Before the message is sent: a client killed now has delivered nothing.
        await asyncio.sleep(delay)
        while self.held:
            await asyncio.sleep(0.01)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content)
        subject = message.get("Subject", "")
        body = message.get_payload(decode=True).decode(errors="replace")
        with self.lock:
            self.messages.append((tuple(envelope.rcpt_tos), subject))
            self.bodies.append(body)
            self.received_at.append(time.monotonic())
        return "250 Message accepted for delivery"


class MailSink:
    """Start with `with MailSink() as sink:`; `sink.port` is where it listens."""

    def __init__(self):
        self.recorder = Recorder()
        self.port = free_port()
        self.controller = Controller(
            self.recorder, hostname="127.0.0.1", port=self.port
        )

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc_info):
        self.controller.stop()

    def count(self):
        """How many messages each recipient got."""
        with self.recorder.lock:
            return Counter(r for rcpts, _ in self.recorder.messages for r in rcpts)

    def to(self, recipient):
        """The (subject, body) of each message sent to `recipient`."""
        with self.recorder.lock:
            pairs = zip(self.recorder.messages, self.recorder.bodies, strict=True)
            return [
                (subject, body)
                for (rcpts, subject), body in pairs
                if recipient in rcpts
            ]

    def total(self):
        with self.recorder.lock:
            return len(self.recorder.messages)

    def wait_for(self, condition, timeout, step=0.1):
        """Wait until condition(self) is true; return whether it became true."""
        return poll(lambda: condition(self), timeout, step)

    def slow_next(self, recipient, seconds):
        with self.recorder.lock:
            self.recorder.slow[recipient] = seconds

    def refuse_next(self, recipient):
        with self.recorder.lock:
            self.recorder.refuse.add(recipient)

    def hold(self):
        """Hold every sender at RCPT, before its message, until release()."""
        with self.recorder.lock:
            self.recorder.held = True

    def release(self):
        with self.recorder.lock:
            self.recorder.held = False

    def has_seen(self, recipient):
        with self.recorder.lock:
            return recipient in self.recorder.seen
