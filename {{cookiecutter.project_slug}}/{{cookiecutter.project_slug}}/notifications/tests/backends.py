from django.core.mail.backends.base import BaseEmailBackend


class BrokenEmailBackend(BaseEmailBackend):
    """An email backend whose server is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server is down")
