from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from ...signal_tools.testing import ReceiverCall
from ...users.models import User
from ...users.services import sign_up
from ...users.tests.factories import UserFactory
from ..models import Notification
from ..outbox import Outcome, claim, deliver


def signup(username="ada"):
    return sign_up(
        username=username, email=f"{username}@example.com", password="pass-1234"
    )


@pytest.mark.django_db(transaction=True)
def test_commit_sends_exactly_one_welcome_email(outbox, settings):
    settings.PROJECT_NAME = 'Shop "Ünïcode" 🚀'
    user = signup()

    assert len(outbox) == 1
    assert outbox[0].to == ["ada@example.com"]
    assert outbox[0].subject == 'Welcome to Shop "Ünïcode" 🚀'
    assert 'An account on Shop "Ünïcode" 🚀 was just opened' in outbox[0].body
    notification = Notification.objects.get(user=user, kind="welcome")
    assert notification.sent_at is not None
    assert notification.attempts == 1


@pytest.mark.django_db(transaction=True)
def test_rollback_sends_no_welcome_email(outbox, rollback):
    rollback(signup)

    assert outbox == []
    assert not User.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_signup_queues_nothing(
    rollback: Callable[[Callable[[], object]], None],
    captured_receivers: list[ReceiverCall],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        rollback(signup)

    [welcome] = [
        c for c in captured_receivers if c.name == "notifications.signals.queue_welcome"
    ]
    assert welcome.writes == ["INSERT"]  # the row, rolled back with the signup
    assert callbacks == []  # and no delivery left waiting for a commit
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_email_waits_for_the_outer_transaction(outbox):
    with transaction.atomic():
        signup()
        assert outbox == []

    assert len(outbox) == 1


@pytest.mark.django_db
def test_welcome_row_is_written_with_the_user(
    outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user = signup()

    notification = Notification.objects.get(user=user)
    assert notification.kind == Notification.Kind.WELCOME
    assert notification.sent_at is None
    assert outbox == []
    for callback in callbacks:
        callback()
    assert len(outbox) == 1


@pytest.mark.django_db
def test_delivering_twice_sends_one_email(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        user = signup()
    notification = Notification.objects.get(user=user)

    assert deliver(notification.pk) == Outcome.SENT
    assert deliver(notification.pk) == Outcome.SKIPPED
    assert len(outbox) == 1


@pytest.mark.django_db
def test_a_claimed_notification_cannot_be_claimed_again(user):
    notification = Notification.objects.get(user=user)

    Notification.objects.filter(pk=notification.pk).update(sent_at=None)
    assert claim(notification.pk) is True
    assert claim(notification.pk) is False


@pytest.mark.django_db
def test_a_stale_claim_can_be_retried(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        user = signup()
    notification = Notification.objects.get(user=user)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    Notification.objects.filter(pk=notification.pk).update(claimed_at=an_hour_ago)

    assert deliver(notification.pk) == Outcome.SENT
    assert len(outbox) == 1


@pytest.mark.django_db
def test_a_live_claim_makes_a_second_delivery_wait(outbox, user):
    notification = Notification.objects.get(user=user)
    Notification.objects.filter(pk=notification.pk).update(sent_at=None)
    assert claim(notification.pk) is True

    assert deliver(notification.pk) == Outcome.BUSY
    assert outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_never_breaks_the_signup(outbox, broken_email):
    user = signup()

    assert User.objects.filter(pk=user.pk).exists()
    notification = Notification.objects.get(user=user)
    assert notification.sent_at is None
    assert notification.claimed_at is None
    assert "mail server is down" in notification.last_error
    assert outbox == []


@pytest.mark.django_db
def test_a_failed_send_is_recorded_and_can_be_retried(
    outbox, broken_email, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        user = signup()
    notification = Notification.objects.get(user=user)

    assert deliver(notification.pk) == Outcome.FAILED
    notification.refresh_from_db()
    assert notification.sent_at is None
    assert notification.claimed_at is None
    assert notification.attempts == 1
    assert notification.last_error == "ConnectionRefusedError: mail server is down"

    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    assert deliver(notification.pk) == Outcome.SENT
    notification.refresh_from_db()
    assert notification.attempts == 2
    assert notification.sent_at is not None
    assert notification.last_error == ""
    assert len(outbox) == 1


@pytest.mark.django_db
def test_a_user_without_email_gets_no_notification():
    user = UserFactory(email="")

    assert not Notification.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_raw_saves_queue_nothing():
    user = UserFactory.build(username="raw")
    User.save_base(user, raw=True)

    assert not Notification.objects.filter(user__username="raw").exists()


@pytest.mark.django_db
def test_a_notification_out_of_attempts_is_never_claimed_again(
    outbox, caplog, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    with django_capture_on_commit_callbacks(execute=False):
        user = signup()
    notification = Notification.objects.get(user=user)
    # A message that killed the worker on each of its 3 attempts.
    Notification.objects.filter(pk=notification.pk).update(attempts=3)

    assert claim(notification.pk) is False
    assert deliver(notification.pk) == Outcome.GAVE_UP
    assert f"Notification {notification.pk} gave up after 3 attempts" in caplog.text
    notification.refresh_from_db()
    assert notification.attempts == 3
    assert notification.sent_at is None
    assert outbox == []
