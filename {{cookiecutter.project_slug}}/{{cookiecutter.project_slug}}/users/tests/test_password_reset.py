"""The reset page answers before anything depends on the address typed.

How long the page takes must not tell whether the address has an account:
the form looks the address up, and sends password_reset_requested (whose
receivers write the outbox row), only once the response is sent. Over a
real HTTP server (live_server, threaded like runserver): a receiver waits
until the test's client holds the whole response; had the lookup happened
inside the request, the response could not have arrived first. The order
is the proof; benchmarks/reset_timing.py in the template measures the times.
"""

import threading
import time

import pytest

from ..signals import password_reset_requested
from .factories import UserFactory
from .live import TIMEOUT, post_form

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_reset_request_is_sent_after_the_response(live_server):
    user = UserFactory(username="ada")
    response_received = threading.Event()
    requested = []

    def listener(sender, user, **kwargs):
        # Wait for the client; True if it had its response before the bound.
        requested.append((user, response_received.wait(timeout=TIMEOUT / 2)))

    password_reset_requested.connect(listener, dispatch_uid="test.listener")
    try:
        response = post_form(
            live_server.url, "/accounts/password_reset/", {"email": user.email}
        )
        response_received.set()
        assert response.status == 302
        deadline = time.monotonic() + TIMEOUT
        while not requested and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        response_received.set()
        password_reset_requested.disconnect(dispatch_uid="test.listener")

    assert requested == [(user, True)], "looked up before the response"
