"""An email backend as slow as a remote mail server, for the Celery tests and benchmark.

Not part of the generated project: a process of a rendered project imports
it when this directory is on its PYTHONPATH, with

    DJANGO_EMAIL_BACKEND=slow_email.SlowEmailBackend
    DJANGO_EMAIL_OPTIONS='{"file_path": "/tmp/mail", "delay": 0.2}'
"""

import os
import time
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend


class SlowEmailBackend(EmailBackend):
    """Django's file backend, waiting `delay` seconds before each message it writes.

    The wait comes first, so a process killed during it has written nothing,
    as a worker killed before the mail server accepted the message. A
    `sending-*` file in the mail directory marks the start of each wait: a
    test that kills a worker mid-send waits for it instead of polling the
    database, which is too slow to be sure of landing inside the wait on a
    loaded machine.
    """

    def __init__(self, *args, delay=0.2, **kwargs):
        super().__init__(*args, **kwargs)
        self.delay = float(delay)

    def send_messages(self, email_messages):
        marker = Path(self.file_path) / f"sending-{os.getpid()}-{time.time_ns()}"
        marker.touch()
        time.sleep(self.delay * len(email_messages))
        return super().send_messages(email_messages)
