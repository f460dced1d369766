"""Password reset emails: asked for by the users app's signal, sent through the outbox."""

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ...users.tests.factories import UserFactory
from ...users.tests.pages import assert_new_password_set
from ..models import Notification
from ..outbox import Outcome, deliver

DONE = [("/accounts/password_reset/done/", 302)]


def ask_reset(client, email):
    return client.post("/accounts/password_reset/", {"email": email}, follow=True)


def reset_of(user):
    return Notification.objects.get(user=user, kind=Notification.Kind.PASSWORD_RESET)


def reset_link(email):
    """The path of the reset link in an email, which starts with SITE_URL."""
    site = re.escape(settings.SITE_URL)
    link = re.search(rf"{site}(/accounts/reset/\S+/)", email.body)
    assert link, email.body
    return link[1]


@pytest.fixture
def ada(db, outbox):
    """A user whose welcome email, if any went out, is out of the outbox."""
    user = UserFactory(username="ada")
    outbox.clear()
    return user


@pytest.mark.django_db
def test_a_reset_request_writes_one_row_and_emails_a_working_link_after_commit(
    client, ada, outbox, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = ask_reset(client, "ADA@example.com")

    assert response.redirect_chain == DONE
    notification = reset_of(ada)
    assert notification.sent_at is None
    site = settings.SITE_URL.split("://")
    assert notification.context == {"domain": site[1], "protocol": site[0]}
    assert outbox == []

    for callback in callbacks:  # the commit
        callback()

    assert reset_of(ada).sent_at is not None
    [email] = outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == f"Reset your password on {settings.PROJECT_NAME}"
    set_password_page = client.get(reset_link(email), follow=True)
    assert set_password_page.context["validlink"] is True
    assert_new_password_set(
        client,
        set_password_page.redirect_chain[-1][0],
        ada,
        "reset-and-remembered",
        done="/accounts/reset/done/",
    )


@pytest.mark.django_db
def test_the_reset_token_is_stored_nowhere(
    client, ada, outbox, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        CaptureQueriesContext(connection) as queries,
    ):
        ask_reset(client, ada.email)

    token = reset_link(outbox[0]).rstrip("/").rsplit("/", 1)[1]
    rows = json.dumps(list(Notification.objects.values()), default=str)
    assert token not in rows
    assert not [query for query in queries if token in str(query["sql"])]


@pytest.mark.django_db(transaction=True)
def test_asking_again_after_the_cool_down_sends_again_from_the_same_row(
    client, ada, outbox, settings
):
    settings.NOTIFICATIONS_RESET_COOLDOWN = 0
    ask_reset(client, ada.email)
    first = reset_of(ada)

    ask_reset(client, ada.email)

    second = reset_of(ada)
    assert Notification.objects.filter(kind="password_reset").count() == 1
    assert second.pk == first.pk
    assert second.sent_at > first.sent_at
    assert second.attempts == 1
    assert len(outbox) == 2
    # Each email carries its own working link.
    assert client.get(reset_link(outbox[1]), follow=True).context["validlink"]


@pytest.mark.django_db(transaction=True)
def test_asking_again_after_the_cool_down_resets_a_failed_reset(
    client, ada, outbox, broken_email, settings
):
    settings.NOTIFICATIONS_RESET_COOLDOWN = 0
    ask_reset(client, ada.email)
    failed = reset_of(ada)
    assert failed.sent_at is None
    assert "mail server is down" in failed.last_error

    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    ask_reset(client, ada.email)

    notification = reset_of(ada)
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert notification.last_error == ""
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_reset_request_sends_nothing(client, ada, outbox, rollback):
    rollback(lambda: ask_reset(client, ada.email))

    assert outbox == []
    assert not Notification.objects.filter(kind="password_reset").exists()


@pytest.mark.django_db(transaction=True)
def test_an_unknown_email_sends_nothing_and_shows_the_same_page(client, ada, outbox):
    known = ask_reset(client, ada.email)
    outbox.clear()

    unknown = ask_reset(client, "nobody@example.com")

    assert unknown.redirect_chain == known.redirect_chain == DONE
    assert unknown.content == known.content
    assert outbox == []
    assert list(Notification.objects.filter(kind="password_reset")) == [reset_of(ada)]


@pytest.mark.django_db(transaction=True)
def test_an_account_without_a_usable_password_gets_no_reset_email(client, outbox):
    user = UserFactory(username="ada", password=None)  # an unusable password
    outbox.clear()

    response = ask_reset(client, user.email)

    assert response.redirect_chain == DONE
    assert outbox == []
    assert not Notification.objects.filter(kind="password_reset").exists()


@pytest.mark.django_db
def test_delivering_a_reset_twice_sends_one_email(
    client, ada, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        ask_reset(client, ada.email)
    notification = reset_of(ada)

    assert deliver(notification.pk) == Outcome.SENT
    assert deliver(notification.pk) == Outcome.SKIPPED
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_ten_requests_within_the_cool_down_send_one_email(client, ada, outbox):
    pages = [ask_reset(client, ada.email) for _ in range(10)]

    assert len(outbox) == 1
    assert {page.content for page in pages} == {pages[0].content}
    assert all(page.redirect_chain == DONE for page in pages)
    notification = reset_of(ada)
    assert notification.attempts == 1
    # The first email's link still works: no later request made a new one.
    assert client.get(reset_link(outbox[0]), follow=True).context["validlink"]


@pytest.mark.django_db(transaction=True)
def test_a_request_after_the_cool_down_sends_again(client, ada, outbox, settings):
    ask_reset(client, ada.email)
    ask_reset(client, ada.email)
    assert len(outbox) == 1

    # The cool-down (5 minutes by default) has passed since the first request.
    cooldown = timedelta(seconds=settings.NOTIFICATIONS_RESET_COOLDOWN)
    Notification.objects.filter(kind="password_reset").update(
        created_at=timezone.now() - cooldown
    )
    ask_reset(client, ada.email)

    assert len(outbox) == 2
    assert [email.to for email in outbox] == [[ada.email], [ada.email]]


@pytest.mark.django_db(transaction=True)
def test_the_cool_down_is_per_account(client, ada, outbox):
    grace = UserFactory(username="grace")
    outbox.clear()

    for _ in range(3):
        ask_reset(client, ada.email)
        ask_reset(client, grace.email)

    assert sorted(email.to[0] for email in outbox) == [ada.email, grace.email]
