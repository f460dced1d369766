"""Logins, failed logins and signups: recorded with IP address and browser, never a password."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.signals import user_login_failed
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from ...users.services import sign_up
from ...users.tests.factories import UserFactory
from ...users.usernames import recorded_username
from ..models import AuditEvent

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action
PASSWORD = "correct horse battery staple"
CLIENT = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "TestBrowser/1.0"}


@pytest.fixture
def staff():
    return UserFactory(username="ada", is_staff=True)


def log_in(client, password):
    return client.post(
        "/admin/login/", {"username": "ada", "password": password}, **CLIENT
    )


def test_a_login_is_recorded_with_its_address_and_browser(client, staff):
    response = log_in(client, PASSWORD)

    assert response.status_code == 302
    event = AuditEvent.objects.get(action=Action.LOGGED_IN)
    assert event.actor == staff
    assert event.target_id == str(staff.pk)
    assert (event.ip_address, event.user_agent) == ("203.0.113.7", "TestBrowser/1.0")


def test_a_failed_login_is_recorded_without_the_password(client, staff):
    sent = []
    user_login_failed.connect(
        lambda sender, credentials, **kwargs: sent.append(credentials),
        weak=False,
        dispatch_uid="tests.sent",
    )
    try:
        response = log_in(client, "hunter2-wrong")
    finally:
        user_login_failed.disconnect(dispatch_uid="tests.sent")

    assert response.status_code == 200
    event = AuditEvent.objects.get()
    assert event.action == Action.LOGIN_FAILED
    assert (event.target_repr, event.actor) == ("ada", None)
    assert event.ip_address == "203.0.113.7"
    assert "hunter2" not in str(model_to_dict(event))
    # Django masks the password before sending the signal.
    assert sent[0]["password"] == "********************"


def test_a_username_without_an_account_is_not_recorded_as_typed(client, staff):
    # Someone types their password into the username field.
    typed = "Tr0ub4dor&3-my-password"

    for page in ("/accounts/login/", "/admin/login/"):
        client.post(page, {"username": typed, "password": PASSWORD}, **CLIENT)

    events = AuditEvent.objects.filter(action=Action.LOGIN_FAILED)
    assert events.count() == 2
    # A keyed hash, the same for the same text: attempts still add up.
    assert {event.target_repr for event in events} == {recorded_username(typed)}
    assert recorded_username(typed).startswith("unknown:")
    stored = [model_to_dict(event) for event in events]
    stored += [model_to_dict(row) for row in AccessAttempt.objects.all()]
    assert AccessAttempt.objects.get().failures_since_start == 2
    assert "Tr0ub4dor" not in str(stored)


def test_a_username_of_an_account_is_recorded_as_is():
    UserFactory(username="grace")

    assert recorded_username("grace") == "grace"
    assert recorded_username("Grace").startswith("unknown:")


def test_a_signup_through_a_request_records_its_address_and_browser(
    rf, django_capture_on_commit_callbacks
):
    request = rf.post("/accounts/signup/", **CLIENT)

    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as queries,
    ):
        user = sign_up(
            username="ada", email="a@example.com", password=PASSWORD, request=request
        )

    event = AuditEvent.objects.get()
    assert (event.action, event.actor) == (Action.SIGNED_UP, user)
    assert (event.ip_address, event.user_agent) == ("203.0.113.7", "TestBrowser/1.0")
    # user, profile, welcome notification, audit entry: one transaction
    inserts = [q for q in queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 4


def test_a_signup_without_a_request_records_no_signup():
    sign_up(username="ada", email="a@example.com", password=PASSWORD)

    assert not AuditEvent.objects.exists()


def test_a_client_address_that_is_no_ip_is_left_empty(rf):
    request = rf.post("/accounts/signup/", REMOTE_ADDR="unix:/run/app.sock")

    sign_up(username="ada", email="a@example.com", password=PASSWORD, request=request)

    assert AuditEvent.objects.get().ip_address is None
