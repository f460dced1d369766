"""`manage.py send_unsent`: deliver the unsent notifications whose wait is over."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ...outbox import Outcome, deliver, due


class Command(BaseCommand):
    help = (
        "Send now every unsent notification that is due for another try, as the "
        "sweep finds them: no delivery holds it, it has had fewer than "
        "NOTIFICATIONS_MAX_ATTEMPTS attempts, and NOTIFICATIONS_SWEEP_GRACE x "
        "2**attempts seconds have passed since it was last tried or queued. "
        "Print how many were sent and how many failed. Safe to run from cron as "
        "often as every minute, next to anything else that delivers: each "
        "notification is claimed before it is sent."
    )

    def handle(self, *args: str, **options: Any) -> None:
        ids = list(due(timezone.now()).values_list("pk", flat=True))
        outcomes = [deliver(notification_id) for notification_id in ids]
        sent = outcomes.count(Outcome.SENT)
        failed = outcomes.count(Outcome.FAILED)
        self.stdout.write(f"{sent} sent, {failed} failed")
