"""Without a background runner, emails go out after the response, never inside it.

Over a real HTTP server (pytest-django's live_server, a threaded WSGI
server like runserver): the email backend waits until the test's client
holds the whole response. Had the email been sent inside the request, the
response could not have arrived first. The order is the proof; nothing here
is timed (benchmarks/reset_timing.py in the template measures the times).
"""

import time

import pytest
from django.core import mail

from ...users.tests.factories import UserFactory
from ...users.tests.live import post_form
from .backends import GATE_TIMEOUT, GatedEmailBackend

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gated_email(settings):
    """Send emails through GatedEmailBackend, its gate closed."""
    backend = f"{GatedEmailBackend.__module__}.{GatedEmailBackend.__name__}"
    settings.MAILERS = {"default": {"BACKEND": backend}}
    GatedEmailBackend.gate.clear()
    GatedEmailBackend.opened_in_time.clear()
    mail.outbox = []
    yield GatedEmailBackend
    GatedEmailBackend.gate.set()  # never leave a server thread waiting


def wait_for_emails(count):
    """Wait until the server thread has sent `count` emails (a bound, not a measure)."""
    deadline = time.monotonic() + 2 * GATE_TIMEOUT
    while len(mail.outbox) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return mail.outbox


@pytest.fixture
def ada():
    """A user, made (and welcomed) before the gate closes."""
    return UserFactory(username="ada", email="ada@example.com")


def test_the_reset_email_is_sent_after_the_response(live_server, ada, gated_email):
    response = post_form(
        live_server.url, "/accounts/password_reset/", {"email": ada.email}
    )

    assert response.status == 302
    assert response.headers["Location"] == "/accounts/password_reset/done/"
    gated_email.gate.set()  # the client has the whole response: now send
    [email] = wait_for_emails(1)
    assert email.to == ["ada@example.com"]
    assert gated_email.opened_in_time == [True], "sent before the response"


def test_the_welcome_email_is_sent_after_the_signup_response(live_server, gated_email):
    response = post_form(
        live_server.url,
        "/accounts/signup/",
        {
            "username": "ada",
            "email": "ada@example.com",
            "password1": "analytical-engine-1843",
            "password2": "analytical-engine-1843",
        },
    )

    assert response.status == 302
    assert response.headers["Location"] == "/accounts/signup/done/"
    gated_email.gate.set()
    [email] = wait_for_emails(1)
    assert email.to == ["ada@example.com"]
    assert gated_email.opened_in_time == [True], "sent before the response"
