"""Celery tasks of the notifications app: delivery, and a sweep for what it missed.

The receiver in signals.py queues `deliver_notification` after commit. Every
run goes through outbox.deliver(), which claims the row first, so a task
that runs twice (a redelivery, a retry, the sweep) sends one email.
"""

import logging

from celery import Task, shared_task
from django.conf import settings

from .outbox import Outcome, deliver, queue_due

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """Sending failed; the error is on the row (last_error) and in the log."""


def enqueue_delivery(notification_id: int) -> None:
    """Queue the delivery of a notification; if the broker is unreachable, log and go on.

    Runs in transaction.on_commit: an exception here would reach the code that
    committed the signup, after the fact. The row stays unsent, and
    sweep_unsent queues it again once the broker is back.
    """
    try:
        deliver_notification.delay(notification_id)
    except Exception:
        logger.exception(
            "Notification %s was not queued; it stays unsent until sweep_unsent "
            "queues it again",
            notification_id,
        )


@shared_task(
    name="notifications.deliver",
    bind=True,
    # Acknowledge after the run, and put the task back when its worker dies.
    acks_late=True,
    reject_on_worker_lost=True,
    # Retry a failed send after a random delay of up to 10 s, 20 s, 40 s, ...
    autoretry_for=(DeliveryFailed,),
    max_retries=5,
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    # Stop a send before its claim expires, or a second delivery could start.
    soft_time_limit=settings.NOTIFICATIONS_CLAIM_TIMEOUT * 0.8,
)
def deliver_notification(self: Task, notification_id: int) -> str:
    """Send one notification; a second run sends nothing, a failed send is retried."""
    outcome = deliver(notification_id)
    if outcome is Outcome.FAILED:
        raise DeliveryFailed(f"Notification {notification_id} failed to send")
    if outcome is Outcome.BUSY:
        # Another delivery holds the claim. If it died (its worker was
        # killed), the claim expires after NOTIFICATIONS_CLAIM_TIMEOUT.
        raise self.retry(countdown=settings.NOTIFICATIONS_CLAIM_TIMEOUT)
    return outcome.value


@shared_task(name="notifications.sweep_unsent")
def sweep_unsent() -> int:
    """Queue again the notifications still unsent after their wait; return how many.

    outbox.queue_due() picks them (NOTIFICATIONS_SWEEP_GRACE x 2**attempts
    seconds after their last try or queueing) and marks them queued, so with
    no worker running a row is queued again once per wait, not on every run.
    """
    return queue_due(deliver_notification.delay)
