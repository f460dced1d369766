"""`manage.py schedule_sweep`: queue a run of sweep_unsent now, unless one is waiting.

The Procfile's worker runs it before `db_worker`, so the sweep's chain of
runs starts with the worker: on a fresh database, or once the chain is lost
(a worker killed between taking a sweep and queueing the next), a
notification left unsent is sent without waiting for other traffic.
"""

import logging
from typing import Any

from django.core.management.base import BaseCommand

from ...tasks import schedule_sweep

# A log line, not stdout: in production every line a process writes is JSON.
logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Queue a run of sweep_unsent now, unless one is already waiting; the "
        "sweep then queues its next run itself. Run it before db_worker."
    )

    def handle(self, *args: str, **options: Any) -> None:
        queued = schedule_sweep(delay=0)
        logger.info("Sweep queued" if queued else "A sweep is already waiting")
