"""An email backend as slow as a remote mail server, for the Celery tests and benchmark.

Not part of the generated project: a process of a rendered project imports
it when this directory is on its PYTHONPATH, with

    DJANGO_EMAIL_BACKEND=slow_email.SlowEmailBackend
    DJANGO_EMAIL_OPTIONS='{"file_path": "/tmp/mail", "delay": 0.2}'
"""

import time

from django.core.mail.backends.filebased import EmailBackend


class SlowEmailBackend(EmailBackend):
    """Django's file backend, waiting `delay` seconds before each message it writes.

    The wait comes first, so a process killed during it has written nothing,
    as a worker killed before the mail server accepted the message.
    """

    def __init__(self, *args, delay=0.2, **kwargs):
        super().__init__(*args, **kwargs)
        self.delay = float(delay)

    def send_messages(self, email_messages):
        time.sleep(self.delay * len(email_messages))
        return super().send_messages(email_messages)
