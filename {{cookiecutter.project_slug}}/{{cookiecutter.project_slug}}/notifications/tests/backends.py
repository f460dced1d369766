import threading
from typing import ClassVar

from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend


class BrokenEmailBackend(BaseEmailBackend):
    """An email backend whose server is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server is down")


class GatedEmailBackend(locmem.EmailBackend):
    """Django's locmem backend that waits, before sending, until the test opens `gate`.

    A test opens the gate once its HTTP client holds the whole response. If
    the email were sent inside the request, the response could not arrive
    while the backend waits: the wait ends only at GATE_TIMEOUT, and
    `opened_in_time` records that it was the timeout, not the test, that
    let the email go.
    """

    gate = threading.Event()
    opened_in_time: ClassVar[list[bool]] = []

    def send_messages(self, email_messages):
        self.opened_in_time.append(self.gate.wait(timeout=GATE_TIMEOUT))
        return super().send_messages(email_messages)


# Long enough for a loaded machine to answer a request; it only bounds a
# test that fails, it measures nothing.
GATE_TIMEOUT = 15
