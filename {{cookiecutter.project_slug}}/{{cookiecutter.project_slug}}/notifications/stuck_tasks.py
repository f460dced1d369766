"""Task rows left RUNNING by a worker that died: found after a timeout and marked FAILED.

django-tasks-db's `db_worker` marks a task RUNNING when it takes it and
SUCCESSFUL or FAILED when it is done; a worker killed with SIGKILL (out of
memory, a machine lost, a platform's stop timeout) does neither, and the row
stays RUNNING for good: an operator counting running tasks is misled. The
sweep (tasks.sweep_unsent) calls fail_stuck_tasks() on every run.

FAILED, not READY: a task whose worker died is not run again, as nothing
tells a task that killed its worker from one whose worker was killed, and
running the first again would kill the next worker too. Nothing is lost by
that: a notification the dead delivery left unsent is queued again by the
sweep once its claim expires (outbox.take_due), and delivery is idempotent.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """What a task row marked FAILED here failed with (its exception class path)."""


def fail_stuck_tasks() -> int:
    """Mark FAILED the tasks RUNNING for over NOTIFICATIONS_STUCK_TASK_TIMEOUT seconds; return how many.

    Any task of the table, an app's own included: the timeout must stay above
    the longest run of every task (docs/background.md).

    One conditional UPDATE per row (still RUNNING, since the same start), so a
    task that finishes meanwhile keeps its result, and two sweeps racing mark
    each row once. Each row is logged as a warning with its worker's id.
    """
    now = timezone.now()
    started_before = now - timedelta(seconds=settings.NOTIFICATIONS_STUCK_TASK_TIMEOUT)
    stuck = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=started_before
    ).values_list("pk", "task_path", "worker_ids", "started_at")
    failed = 0
    for pk, task_path, worker_ids, started_at in stuck:
        marked = DBTaskResult.objects.filter(
            pk=pk, status=TaskResultStatus.RUNNING, started_at=started_at
        ).update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            return_value=None,
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback=(
                f"Still RUNNING {settings.NOTIFICATIONS_STUCK_TASK_TIMEOUT} s after "
                f"it started at {started_at}: its worker "
                f"({', '.join(worker_ids) or 'unknown'}) is taken to be gone."
            ),
        )
        if marked:
            failed += 1
            logger.warning(
                "Task %s (%s) RUNNING since %s on worker %s, past "
                "NOTIFICATIONS_STUCK_TASK_TIMEOUT: its worker is taken to be gone; "
                "marked FAILED",
                pk,
                task_path,
                started_at,
                ", ".join(worker_ids) or "unknown",
            )
    return failed
