import pytest
from django.test import Client

from ...audit.models import AuditEvent
from ...notifications.models import Notification
from ...users.models import User
from ...users.services import confirm_email, sign_up
from ...users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_home_invites_a_visitor_to_sign_up(client):
    response = client.get("/")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/accounts/signup/"' in html
    assert 'href="/accounts/login/"' in html
    assert "What the signals did for you" not in html


def test_home_tells_a_new_user_their_profile_was_made_and_email_sent(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        user = sign_up(username="ada", email="ada@example.com", password="pass-1843")
    assert user is not None
    confirm_email(user)  # the welcome email's link opens the account
    client.force_login(user)

    html = client.get("/").content.decode()

    assert 'created <a href="/accounts/profile/">your profile</a>' in html
    assert "a welcome email to ada@example.com in its outbox" in html
    assert "That email was sent at" in html


def test_home_counts_the_audit_entries_about_the_user(client):
    client.post(
        "/accounts/signup/",
        {
            "username": "ada",
            "email": "ada@example.com",
            "password1": "analytical-engine-1843",
            "password2": "analytical-engine-1843",
        },
    )
    grace = UserFactory(username="grace")
    Client().force_login(grace)  # her login entry is not about ada
    User.objects.filter(username="ada").update(is_active=True)  # as if confirmed
    client.force_login(User.objects.get(username="ada"))

    html = client.get("/").content.decode()

    # The signup itself and a login.
    entries = AuditEvent.objects.filter(target_repr="ada")
    assert sorted(entries.values_list("action", flat=True)) == [
        "logged_in",
        "signed_up",
    ]
    assert AuditEvent.objects.filter(target_repr="grace").exists()
    assert "the audit app has recorded 2 entries about your account" in html


def test_home_says_when_the_welcome_email_is_still_queued(client, user):
    Notification.objects.filter(user=user).update(sent_at=None, attempts=2)
    client.force_login(user)

    html = client.get("/").content.decode()

    assert "That email is still queued after 2 attempts" in html


def test_home_explains_a_user_without_email_got_no_welcome(client):
    user = UserFactory(email="")
    client.force_login(user)

    html = client.get("/").content.decode()

    assert "No welcome email was queued" in html


def test_home_explains_a_user_without_profile(client, muted_signals):
    user = UserFactory()  # signals muted: a legacy row with no profile
    client.force_login(user)

    html = client.get("/").content.decode()

    assert "has no profile yet" in html


def test_home_shows_a_hostile_project_name_escaped(client, settings):
    settings.PROJECT_NAME = '<script>alert("x")</script> Shop'

    html = client.get("/").content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Shop" in html
