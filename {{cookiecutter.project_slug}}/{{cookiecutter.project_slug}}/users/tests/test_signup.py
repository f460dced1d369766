"""users.signals.user_signed_up: sent by sign_up() for a signup made through a request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..models import User
from ..services import sign_up
from ..signals import user_signed_up

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def signups():
    """The (user, request) of every user_signed_up sent during the test."""
    received = []

    def record(sender, user, request, **kwargs):
        received.append((user, request))

    user_signed_up.connect(record, dispatch_uid="tests.record_signup")
    yield received
    user_signed_up.disconnect(dispatch_uid="tests.record_signup")


def test_sign_up_with_a_request_sends_user_signed_up_once(rf, signups):
    request = rf.post("/accounts/signup/")

    user = sign_up(
        username="ada", email="ada@example.com", password="pass-1234", request=request
    )

    assert signups == [(user, request)]


def test_sign_up_without_a_request_sends_nothing(signups):
    sign_up(username="ada", email="ada@example.com", password="pass-1234")

    assert signups == []


def test_create_user_sends_nothing_but_still_gets_a_welcome(
    signups, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.create_user("grace", "grace@example.com", "pass-1234")

    assert signups == []
    assert [email.to for email in outbox] == [["grace@example.com"]]


def test_the_admin_sends_nothing(admin_client, signups):
    response = admin_client.post(
        "/admin/users/user/add/", {"username": "grace", "usable_password": "false"}
    )

    assert response.status_code == 302
    assert signups == []


def test_a_signup_through_a_request_writes_four_rows_and_no_update(
    rf, django_capture_on_commit_callbacks
):
    request = rf.post("/accounts/signup/", REMOTE_ADDR="203.0.113.9")

    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as queries,
    ):
        sign_up(username="ada", email="ada@example.com", password="pw", request=request)

    writes = [q["sql"].split()[0] for q in queries if q["sql"].startswith(WRITES)]
    # user, profile, welcome notification, audit entry of the signup
    assert writes == ["INSERT"] * 4
