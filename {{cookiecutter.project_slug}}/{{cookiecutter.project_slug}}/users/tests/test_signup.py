"""users.services.sign_up(): an inactive account, or, for a taken address, its owner told.

user_signed_up is sent for a signup made through a request;
signup_with_taken_email instead of creating a user with a taken address.
"""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ..models import User
from ..services import sign_up
from ..signals import signup_with_taken_email, user_signed_up
from .factories import UserFactory

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


@pytest.fixture
def taken_signups():
    """The (user, request) of every signup_with_taken_email sent during the test."""
    received = []

    def record(sender, user, request, **kwargs):
        received.append((user, request))

    signup_with_taken_email.connect(record, dispatch_uid="tests.record_taken")
    yield received
    signup_with_taken_email.disconnect(dispatch_uid="tests.record_taken")


def test_sign_up_makes_an_inactive_user_with_the_password():
    user = sign_up(username="ada", email="ada@example.com", password="pass-1234")

    assert user is not None
    assert not user.is_active
    assert user.email_confirmed_at is None
    assert User.objects.get(pk=user.pk).check_password("pass-1234")


def test_create_user_still_makes_an_active_user():
    user = User.objects.create_user("grace", "grace@example.com", "pass-1234")

    assert user.is_active


def test_sign_up_with_a_taken_address_creates_nothing_and_tells_its_owner(
    rf, signups, taken_signups
):
    owner = UserFactory(username="first", email="ada@example.com")
    request = rf.post("/accounts/signup/")

    result = sign_up(
        username="ada", email="ADA@EXAMPLE.com", password="pass-1234", request=request
    )

    assert result is None
    assert list(User.objects.values_list("username", flat=True)) == ["first"]
    assert signups == []
    assert taken_signups == [(owner, request)]


def test_sign_up_with_a_taken_address_hashes_the_password_too(settings):
    """As long as the new path, which hashes it: the hasher counts its calls."""
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    UserFactory(username="first", email="ada@example.com")
    CountingHasher.calls = 0

    sign_up(username="ada", email="ada@example.com", password="pass-1234")
    taken = CountingHasher.calls
    sign_up(username="grace", email="grace@example.com", password="pass-1234")

    assert taken == 1
    assert CountingHasher.calls == 2


class CountingHasher(MD5PasswordHasher):
    """A fast hasher that counts the passwords it hashes."""

    calls = 0

    def encode(self, password, salt):
        type(self).calls += 1
        return super().encode(password, salt)


def test_sign_up_with_a_taken_address_writes_what_the_notice_needs_only(
    django_capture_on_commit_callbacks,
):
    UserFactory(username="first", email="ada@example.com")

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as queries,
    ):
        sign_up(username="ada", email="ada@example.com", password="pw")

    writes = [q["sql"].split()[0] for q in queries if q["sql"].startswith(WRITES)]
    assert writes == ["INSERT"]  # the notice in the outbox
    assert len(callbacks) == 1  # its delivery, after commit, as a new signup's
