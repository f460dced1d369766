"""Tasks of the notifications app on Django's tasks framework: delivery and a sweep.

The receivers in signals.py queue `deliver_notification` after commit, as a
row of django-tasks-db's table in this project's database; `manage.py
db_worker` runs it. Every run goes through outbox.deliver(), which claims
the notification first, so a task that runs twice sends one email.

Everything a delivery leaves unsent (a failed send, a worker killed mid-send,
a task that was never queued) is retried by `sweep_unsent`, which the worker
runs every NOTIFICATIONS_SWEEP_INTERVAL seconds: `manage.py schedule_sweep`
(before db_worker, in the Procfile) queues the first run, and each run
queues the next one with run_after, so no scheduler process is needed.
Each run also marks FAILED the task rows a killed worker left RUNNING
(stuck_tasks.py).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .outbox import deliver, queue_due
from .stuck_tasks import fail_stuck_tasks

logger = logging.getLogger(__name__)


def enqueue_delivery(notification_id: int) -> None:
    """Queue the delivery of a notification; if that fails, log and go on.

    Runs in transaction.on_commit: an exception here would reach the code that
    committed the signup, after the fact. The row stays unsent, and
    sweep_unsent queues it again.
    """
    try:
        deliver_notification.enqueue(notification_id)
    except Exception:
        logger.exception(
            "Notification %s was not queued; it stays unsent until sweep_unsent "
            "queues it again",
            notification_id,
        )


@task()
def deliver_notification(notification_id: int) -> str:
    """Send one notification and return what happened; a second run sends nothing.

    A failed send is recorded on the row and retried by the sweep, after
    NOTIFICATIONS_SWEEP_GRACE x 2**attempts seconds.
    """
    schedule_sweep()
    return deliver(notification_id).value


@task()
def sweep_unsent() -> int:
    """Queue again the notifications still unsent after their wait; return how many.

    outbox.queue_due() picks them and marks them queued, in the transaction
    that queues their deliveries: the task table is in the same database, so
    both commit or neither does. First, the task rows left RUNNING by a dead
    worker are marked FAILED (stuck_tasks.fail_stuck_tasks).
    """
    # The next run is queued first: a worker killed during this one leaves it.
    schedule_sweep()
    fail_stuck_tasks()
    with transaction.atomic():
        return queue_due(deliver_notification.enqueue)


def schedule_sweep(delay: float | None = None) -> bool:
    """Queue a run of sweep_unsent in NOTIFICATIONS_SWEEP_INTERVAL seconds, unless one waits.

    The sweep calls it first thing, so it keeps itself going; `manage.py
    schedule_sweep`, run before every db_worker, starts it (delay=0), and
    every delivery calls it too, so a lost one is replaced. Two that race
    may queue two runs; the first to run then finds the other waiting and
    queues none, so they merge into one. A backend that runs tasks as they
    are queued (ImmediateBackend, in the tests) has no "later". Returns
    whether it queued one.
    """
    if not sweep_unsent.get_backend().supports_defer:
        return False
    waiting = DBTaskResult.objects.filter(
        task_path=sweep_unsent.module_path, status=TaskResultStatus.READY
    )
    if waiting.exists():
        return False
    if delay is None:
        delay = settings.NOTIFICATIONS_SWEEP_INTERVAL
    sweep_unsent.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue()
    return True
