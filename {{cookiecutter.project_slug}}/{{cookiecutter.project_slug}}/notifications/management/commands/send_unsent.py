"""`manage.py send_unsent`: deliver the unsent notifications whose wait is over."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from ...outbox import Outcome, claimable, deliver, due


class Command(BaseCommand):
    help = (
        "Send now every unsent notification that is due for another try, as the "
        "sweep finds them: no delivery holds it, it has had fewer than "
        "NOTIFICATIONS_MAX_ATTEMPTS attempts, and NOTIFICATIONS_SWEEP_GRACE x "
        "2**attempts seconds have passed since it was last tried or queued. "
        "Print how many were sent and how many failed. Safe to run from cron as "
        "often as every minute, next to anything else that delivers: each "
        "notification is claimed before it is sent. --now skips the wait."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--now",
            action="store_true",
            help=(
                "Send every unsent notification that no delivery holds and that "
                "has attempts left, whatever its wait: once the mail server is "
                "back, or while the workers are down and the sweep keeps "
                "marking rows as queued."
            ),
        )

    def handle(self, *args: str, **options: Any) -> None:
        now = timezone.now()
        rows = claimable(now).order_by("created_at") if options["now"] else due(now)
        ids = list(rows.values_list("pk", flat=True))
        outcomes = [deliver(notification_id) for notification_id in ids]
        sent = outcomes.count(Outcome.SENT)
        failed = outcomes.count(Outcome.FAILED)
        self.stdout.write(f"{sent} sent, {failed} failed")
