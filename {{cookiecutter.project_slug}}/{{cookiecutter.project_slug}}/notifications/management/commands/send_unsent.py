"""`manage.py send_unsent`: deliver every unsent notification that has attempts left."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ...outbox import Outcome, claimable, deliver


class Command(BaseCommand):
    help = (
        "Send now every unsent notification that no delivery holds and that has "
        "had fewer than NOTIFICATIONS_MAX_ATTEMPTS attempts; print how many were "
        "sent and how many failed. Safe to run from cron, next to anything else "
        "that delivers: each notification is claimed before it is sent."
    )

    def handle(self, *args: str, **options: Any) -> None:
        ids = (
            claimable(timezone.now())
            .order_by("created_at")
            .values_list("pk", flat=True)
        )
        outcomes = [deliver(notification_id) for notification_id in list(ids)]
        sent = outcomes.count(Outcome.SENT)
        failed = outcomes.count(Outcome.FAILED)
        self.stdout.write(f"{sent} sent, {failed} failed")
