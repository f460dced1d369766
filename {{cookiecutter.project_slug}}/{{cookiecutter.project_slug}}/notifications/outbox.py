"""The outbox's mechanics: claim a row, deliver it, find the ones due again.

deliver() is safe to call any number of times for the same row: it claims
the row first. What an email says is in emails.py.
"""

import enum
import logging
{%- if cookiecutter.background != "none" %}
from collections.abc import Callable
{%- endif %}
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from . import tracing
from .emails import send
from .models import Notification

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    """What one call of deliver() did."""

    SENT = "sent"  # this call sent it
    SKIPPED = "skipped"  # already sent, or the row is gone
    BUSY = "busy"  # another delivery holds the claim
    FAILED = "failed"  # sending raised; recorded on the row, claim released
    GAVE_UP = "gave_up"  # unsent after NOTIFICATIONS_MAX_ATTEMPTS attempts


def unheld(now: datetime) -> Q:
    """Rows that no live delivery holds at `now`: unclaimed, or claimed by one that died.

    A claim older than NOTIFICATIONS_CLAIM_TIMEOUT seconds belongs to a
    delivery that died (a killed worker, a lost connection): it can be taken over.
    """
    expired = now - timedelta(seconds=settings.NOTIFICATIONS_CLAIM_TIMEOUT)
    return Q(claimed_at__isnull=True) | Q(claimed_at__lt=expired)


def claimable(now: datetime) -> QuerySet[Notification]:
    """The unsent notifications that no live delivery holds at `now`, with attempts left.

    A row that has had NOTIFICATIONS_MAX_ATTEMPTS attempts is never claimed
    again, so a message that kills every worker that runs it stops coming back.
    """
    return Notification.objects.filter(
        unheld(now),
        sent_at__isnull=True,
        attempts__lt=settings.NOTIFICATIONS_MAX_ATTEMPTS,
    )


def claim(notification_id: int) -> bool:
    """Mark an unsent notification as being delivered; False if it is sent, taken or spent.

    One UPDATE with the conditions in its WHERE clause, so two deliveries
    racing for the same row cannot both win.
    """
    now = timezone.now()
    claimed = claimable(now).filter(pk=notification_id)
    return bool(
        claimed.update(claimed_at=now, last_attempt_at=now, attempts=F("attempts") + 1)
    )


def due(now: datetime) -> QuerySet[Notification]:
    """The unsent notifications due for another try at `now`, oldest first.

    They are those whose change committed while nothing could queue or send
    them, whose delivery died, or whose send failed. A row is due once
    NOTIFICATIONS_SWEEP_GRACE x 2**attempts seconds have passed since it was
    last tried or queued (last_attempt_at, or created_at if never). What
    tries rows again ({% if cookiecutter.background != "none" %}the sweep, {% endif %}`manage.py send_unsent`) keeps this backoff: however
    often it runs, a row's NOTIFICATIONS_MAX_ATTEMPTS attempts are spread
    over days, not minutes. claimable() leaves out rows being delivered and
    rows out of attempts.
    """
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE)
    waited = Q()
    for attempts in range(settings.NOTIFICATIONS_MAX_ATTEMPTS):
        waited |= Q(attempts=attempts, tried_at__lt=now - grace * 2**attempts)
    return (
        claimable(now)
        .alias(tried_at=Coalesce("last_attempt_at", "created_at"))
        .filter(waited)
        .order_by("created_at")
    )
{%- if cookiecutter.background != "none" %}


def take_due(now: datetime, limit: int = 500) -> list[int]:
    """The ids of the notifications due() at `now` (at most `limit`), marked as queued at `now`.

    Marking a row queued (last_attempt_at) starts its wait again: with no
    worker running, a sweep queues it again once per wait, not on every run.
    """
    ids = list(due(now).values_list("pk", flat=True)[:limit])
    Notification.objects.filter(pk__in=ids).update(last_attempt_at=now)
    return ids


def queue_due(queue: Callable[[int], object], limit: int = 500) -> int:
    """Queue again, with `queue`, the notifications take_due() finds (at most `limit`); return how many."""
    ids = take_due(timezone.now(), limit=limit)
    for notification_id in ids:
        queue(notification_id)
    if ids:
        logger.info("Queued %s unsent notifications again", len(ids))
    return len(ids)
{%- endif %}


def deliver(notification_id: int) -> Outcome:
    """Send a notification unless it is sent or being sent, and say what happened.

    A send failure is recorded on the row (attempts, last_error), logged, and
    returned as Outcome.FAILED, never raised: the change that queued the
    notification has already committed. A row out of attempts is not sent:
    Outcome.GAVE_UP, logged as an error.
    """
    if not claim(notification_id):
        return why_not_claimed(notification_id)
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    # With tracing on, a child of the span that queued it (tracing.py).
    with tracing.delivery_span(notification) as span:
        try:
            send(notification)
        except Exception as error:
            tracing.record_failure(span, error)
            logger.exception("Notification %s failed to send", notification_id)
            Notification.objects.filter(pk=notification_id).update(
                claimed_at=None, last_error=f"{type(error).__name__}: {error}"
            )
            return Outcome.FAILED
        Notification.objects.filter(pk=notification_id).update(
            sent_at=timezone.now(), claimed_at=None, last_error=""
        )
    return Outcome.SENT


def why_not_claimed(notification_id: int) -> Outcome:
    """The outcome of a delivery that could not claim its row."""
    unsent = Notification.objects.filter(pk=notification_id, sent_at__isnull=True)
    if not unsent.exists():
        return Outcome.SKIPPED
    spent = unsent.filter(
        unheld(timezone.now()), attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS
    )
    if not spent.exists():
        return Outcome.BUSY
    logger.error(
        "Notification %s gave up after %s attempts; it stays unsent",
        notification_id,
        settings.NOTIFICATIONS_MAX_ATTEMPTS,
    )
    return Outcome.GAVE_UP
