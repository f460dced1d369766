"""Delivery of outbox rows. Safe to call any number of times for the same row."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Notification

logger = logging.getLogger(__name__)

# A claim older than this belongs to a delivery that died; it may be retried.
CLAIM_TIMEOUT = timedelta(minutes=5)


def claim(notification_id):
    """Mark an unsent notification as being delivered; False if it is sent or taken.

    One UPDATE with the conditions in its WHERE clause, so two deliveries
    racing for the same row cannot both win.
    """
    now = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
    return bool(
        Notification.objects.filter(
            Q(pk=notification_id, sent_at__isnull=True) & free
        ).update(claimed_at=now, attempts=F("attempts") + 1)
    )


def send(notification):
    """Send the email of one notification."""
    context = {"user": notification.user, "project_name": settings.PROJECT_NAME}
    template = f"notifications/{notification.kind}_email"
    send_mail(
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        message=render_to_string(f"{template}.txt", context),
        from_email=None,
        recipient_list=[notification.user.email],
    )


def deliver(notification_id):
    """Send a notification unless it was already sent; return True if this call sent it.

    A failure is recorded on the row (attempts, last_error) and logged, never
    raised: the change that queued the notification has already committed.
    """
    if not claim(notification_id):
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    try:
        send(notification)
    except Exception as error:
        logger.exception("Notification %s failed to send", notification_id)
        Notification.objects.filter(pk=notification_id).update(
            claimed_at=None, last_error=f"{type(error).__name__}: {error}"
        )
        return False
    Notification.objects.filter(pk=notification_id).update(
        sent_at=timezone.now(), claimed_at=None, last_error=""
    )
    return True
