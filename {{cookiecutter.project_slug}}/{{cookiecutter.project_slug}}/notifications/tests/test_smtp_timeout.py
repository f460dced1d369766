"""An SMTP send gives up after a timeout instead of blocking forever.

A send that outlives NOTIFICATIONS_CLAIM_TIMEOUT may be sent twice, so the
SMTP mailer has a default timeout (config.settings.base.SMTP_EMAIL_DEFAULTS)
that DJANGO_EMAIL_OPTIONS can change.
"""

import json
import smtplib
import socket

import pytest
from django.core import mail
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from config.settings.base import SMTP_EMAIL_BACKEND, email_mailer


@pytest.fixture
def silent_server():
    """A mail server that accepts the connection and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_the_smtp_mailer_has_a_thirty_second_timeout_by_default(settings, monkeypatch):
    monkeypatch.setenv("DJANGO_EMAIL_OPTIONS", json.dumps({"host": "127.0.0.1"}))
    settings.MAILERS = {"default": email_mailer(SMTP_EMAIL_BACKEND)}

    backend = mail.mailers["default"]

    assert isinstance(backend, SMTPBackend)
    assert (backend.host, backend.timeout) == ("127.0.0.1", 30)


def test_a_send_to_a_silent_server_gives_up_after_the_configured_timeout(
    settings, monkeypatch, silent_server
):
    options = {"host": "127.0.0.1", "port": silent_server, "timeout": 0.5}
    monkeypatch.setenv("DJANGO_EMAIL_OPTIONS", json.dumps(options))
    settings.MAILERS = {"default": email_mailer(SMTP_EMAIL_BACKEND)}
    backend = mail.mailers["default"]
    assert isinstance(backend, SMTPBackend)
    assert backend.timeout == 0.5

    # smtplib reports the timeout while reading the greeting as a disconnect.
    with pytest.raises(smtplib.SMTPServerDisconnected, match="timed out"):
        mail.send_mail("Hello", "Body", "shop@example.com", ["ada@example.com"])


def test_other_backends_get_no_timeout_they_would_refuse(monkeypatch):
    monkeypatch.delenv("DJANGO_EMAIL_OPTIONS", raising=False)
    console = "django.core.mail.backends.console.EmailBackend"
    assert email_mailer(console) == {"BACKEND": console, "OPTIONS": {}}


def test_options_that_are_not_a_json_object_are_refused(monkeypatch):
    monkeypatch.setenv("DJANGO_EMAIL_OPTIONS", "[1, 2]")
    with pytest.raises(Exception, match="must be a JSON object"):
        email_mailer(SMTP_EMAIL_BACKEND)
