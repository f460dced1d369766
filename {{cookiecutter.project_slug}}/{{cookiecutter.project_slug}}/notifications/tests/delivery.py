"""What the tests of the background runners (test_tasks.py) and of send_unsent share: signups, outbox rows, checks."""

from datetime import timedelta
from functools import partial

import pytest
from django.core.mail import EmailMessage
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from ...users.models import User
from ...users.services import sign_up
from ...users.tests.factories import UserFactory
from ..models import Notification


def signup(username: str = "ada") -> User:
    user = sign_up(
        username=username, email=f"{username}@example.com", password="pass-1234"
    )
    assert user is not None  # a new address
    return user


def welcome_of(user: User) -> Notification:
    return Notification.objects.get(user=user, kind="welcome")


def unsent(
    username: str,
    *,
    age: float,
    tried: float | None = None,
    attempts: int = 0,
    claimed: float | None = None,
    sent: bool = False,
    settings: Settings,
) -> int:
    """An unsent welcome created `age` grace periods ago, last tried `tried` ago."""
    now = timezone.now()
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE)
    claim_timeout = timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT)
    notification = welcome_of(UserFactory(username=username))
    Notification.objects.filter(pk=notification.pk).update(
        created_at=now - age * grace,
        last_attempt_at=None if tried is None else now - tried * grace,
        attempts=attempts,
        claimed_at=None if claimed is None else now - claimed * claim_timeout,
        sent_at=now if sent else None,
    )
    return notification.pk


def rows_for_the_sweep(settings: Settings) -> tuple[list[int], list[int]]:
    """Unsent rows of every kind, out of 5 attempts: (ids due for another try, ids to leave).

    The sweep queues the first, and so does send_unsent send them (outbox.due()).
    """
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 5
    row = partial(unsent, settings=settings)
    due = [
        row("lost", age=1.5),
        row("failed_once_long_ago", age=9, tried=2.5, attempts=1),
        row("worker_died", age=9, tried=4.5, attempts=2, claimed=2),
        row("last_chance", age=99, tried=17, attempts=4),
    ]
    not_due = [
        row("new", age=0.5),
        row("failed_once_recently", age=9, tried=1.5, attempts=1),
        row("queued_recently", age=9, tried=0.5),
        row("being_sent", age=9, tried=3, attempts=1, claimed=0.5),
        row("out_of_attempts", age=100, tried=50, attempts=5),
        row("sent", age=3, sent=True),
    ]
    return due, not_due


def assert_kept_unsent_and_logged(
    user: User, caplog: pytest.LogCaptureFixture, outbox: list[EmailMessage]
) -> None:
    """The signup stands, its welcome waits unsent, and the log says it was not queued."""
    assert User.objects.filter(pk=user.pk).exists()
    notification = welcome_of(user)
    assert notification.sent_at is None
    assert notification.attempts == 0
    assert f"Notification {notification.pk} was not queued" in caplog.text
    assert outbox == []


def assert_a_reset_asked_for_is_delivered(
    client: Client, outbox: list[EmailMessage]
) -> None:
    """A reset asked for on the page is sent, on its first attempt, with its link."""
    # Active: a signup's account may reset its password once it is confirmed.
    user = UserFactory(username="ada", email="ada@example.com")
    outbox.clear()

    client.post("/accounts/password_reset/", {"email": user.email})

    reset = Notification.objects.get(user=user, kind="password_reset")
    assert reset.sent_at is not None
    assert reset.attempts == 1
    assert [message.to for message in outbox] == [["ada@example.com"]]
    assert "/accounts/reset/" in outbox[0].body
