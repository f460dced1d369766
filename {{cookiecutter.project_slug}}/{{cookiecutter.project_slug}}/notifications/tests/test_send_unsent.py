"""`manage.py send_unsent`: the retry for deliveries that failed, run from cron."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F

from ..models import Notification
from . import delivery
from .delivery import unsent


def send_unsent(*args):
    """Run the command; return what it printed."""
    out = StringIO()
    call_command("send_unsent", *args, stdout=out)
    return out.getvalue().strip()


def rows(ids):
    """(sent, attempts) of each notification, by id."""
    found = Notification.objects.filter(pk__in=ids)
    return {n.pk: (n.sent_at is not None, n.attempts) for n in found}


@pytest.mark.django_db
def test_send_unsent_sends_a_failed_notification_once_its_wait_is_over(
    outbox, settings
):
    # Failed once, 2.5 grace periods ago: its wait after one attempt is 2.
    failed = unsent("failed", age=9, tried=2.5, attempts=1, settings=settings)
    Notification.objects.filter(pk=failed).update(last_error="Timeout")
    outbox.clear()

    assert send_unsent() == "1 sent, 0 failed"
    notification = Notification.objects.get(pk=failed)
    assert notification.sent_at is not None
    assert notification.attempts == 2
    assert notification.last_error == ""
    assert [message.to for message in outbox] == [["failed@example.com"]]


@pytest.mark.django_db
def test_send_unsent_sends_the_rows_the_sweep_finds_due_and_no_other(outbox, settings):
    due, not_due = delivery.rows_for_the_sweep(settings)
    tried = rows(due)
    left = rows(not_due)
    outbox.clear()

    assert send_unsent() == f"{len(due)} sent, 0 failed"
    assert rows(due) == {pk: (True, n + 1) for pk, (_, n) in tried.items()}
    assert rows(not_due) == left
    assert len(outbox) == len(due)


@pytest.mark.django_db
def test_send_unsent_every_minute_keeps_the_backoff(broken_email, settings):
    """A mail server down for an hour costs a notification 3 attempts, not 60.

    With the default grace of 5 minutes: tried at once, then 10 and 30
    minutes later; the next try would be 40 minutes after that.
    """
    settings.NOTIFICATIONS_SWEEP_GRACE = 300
    failed = unsent("failed", age=1.5, settings=settings)
    minute = timedelta(minutes=1)

    outcomes = []
    for _ in range(60):
        outcomes.append(send_unsent())
        # A minute later, as the row sees it.
        Notification.objects.filter(pk=failed).update(
            created_at=F("created_at") - minute,
            last_attempt_at=F("last_attempt_at") - minute,
        )

    tried = [i for i, outcome in enumerate(outcomes) if outcome == "0 sent, 1 failed"]
    assert tried == [0, 10, 30]
    assert Notification.objects.get(pk=failed).attempts == 3


@pytest.mark.django_db
def test_send_unsent_now_skips_the_wait_but_not_a_claim_or_the_last_attempt(
    outbox, settings
):
    due, not_due = delivery.rows_for_the_sweep(settings)
    # In rows_for_the_sweep's order: waiting, a delivery holds it, out of
    # attempts, sent already.
    waiting, held, spent, sent = not_due[:3], not_due[3], not_due[4], not_due[5]
    before = rows([held, spent, sent])
    outbox.clear()

    assert send_unsent() == f"{len(due)} sent, 0 failed"
    assert send_unsent("--now") == f"{len(waiting)} sent, 0 failed"
    assert all(was_sent for was_sent, _ in rows([*due, *waiting]).values())
    assert rows([held, spent, sent]) == before
    assert len(outbox) == len(due) + len(waiting)
