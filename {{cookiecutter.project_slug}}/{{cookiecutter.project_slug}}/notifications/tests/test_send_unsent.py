"""`manage.py send_unsent`: the retry for deliveries that failed, run from cron."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ...users.tests.factories import UserFactory
from ..models import Notification


def send_unsent():
    """Run the command; return what it printed."""
    out = StringIO()
    call_command("send_unsent", stdout=out)
    return out.getvalue().strip()


def welcome(username, **fields):
    """The welcome of a new user, its row then updated with `fields`."""
    notification = Notification.objects.get(user=UserFactory(username=username))
    Notification.objects.filter(pk=notification.pk).update(**fields)
    return notification.pk


@pytest.mark.django_db
def test_send_unsent_sends_a_failed_notification(outbox):
    failed = welcome("failed", sent_at=None, attempts=1, last_error="Timeout")
    outbox.clear()

    assert send_unsent() == "1 sent, 0 failed"
    notification = Notification.objects.get(pk=failed)
    assert notification.sent_at is not None
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert [message.to for message in outbox] == [["failed@example.com"]]


@pytest.mark.django_db
def test_send_unsent_sends_nothing_twice_and_leaves_spent_rows_alone(outbox, settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    sent_at = timezone.now()
    welcome("sent", sent_at=sent_at, attempts=1)
    spent = welcome("spent", sent_at=None, attempts=3, last_error="Timeout")
    outbox.clear()

    assert send_unsent() == "0 sent, 0 failed"
    assert outbox == []
    assert Notification.objects.get(user__username="sent").sent_at == sent_at
    notification = Notification.objects.get(pk=spent)
    assert notification.sent_at is None
    assert notification.attempts == 3


@pytest.mark.django_db
def test_send_unsent_counts_the_sends_that_fail_again(outbox, broken_email):
    welcome("failed", sent_at=None, attempts=1)

    assert send_unsent() == "0 sent, 1 failed"
    assert Notification.objects.get(user__username="failed").attempts == 2
