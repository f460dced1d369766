"""The task side of delivery: what is queued and when, the worker, the sweep.

Test settings run tasks as they are queued (ImmediateBackend). The tests that
look at the queue use the project's real backend instead, django-tasks-db,
whose table lives in the test database; `run_worker()` runs its `db_worker`
command in the test process until the queue holds nothing ready.
"""

import signal
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.core.management import call_command
from django.db import transaction
from django.tasks import Task, TaskResultStatus
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from ...users.models import User
from ...users.tasks import request_password_resets
from ...users.tests.factories import UserFactory
from ..models import Notification
from ..tasks import deliver_notification, sweep_unsent
from . import delivery
from .delivery import signup, unsent, welcome_of


@pytest.fixture
def queue(settings: Settings) -> None:
    """Queue tasks in the database, as in production, instead of running them."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def queued(task: Task = deliver_notification) -> list[list]:
    """The arguments of the runs of `task` waiting in the queue, oldest first."""
    waiting = DBTaskResult.objects.filter(
        task_path=task.module_path, status=TaskResultStatus.READY
    ).order_by("enqueued_at")
    return [result.args_kwargs["args"] for result in waiting]


def run_worker() -> None:
    """Run `manage.py db_worker` until no task is ready, then give back Ctrl-C."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0
        )
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True)
def test_the_delivery_is_queued_only_after_commit(
    queue: None, outbox: list[EmailMessage]
) -> None:
    with transaction.atomic():
        user = signup()
        assert queued() == []

    assert queued() == [[welcome_of(user).pk]]
    assert outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_signup_queues_nothing(
    queue: None, rollback: Callable[[Callable[[], object]], None]
) -> None:
    rollback(signup)

    assert not DBTaskResult.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_the_welcome_and_schedules_the_sweep(
    queue: None, outbox: list[EmailMessage], settings: Settings
) -> None:
    user = signup()
    assert outbox == []

    run_worker()

    notification = welcome_of(user)
    assert notification.sent_at is not None
    assert notification.attempts == 1
    assert [message.to for message in outbox] == [["ada@example.com"]]
    delivery = DBTaskResult.objects.get(task_path=deliver_notification.module_path)
    assert (delivery.status, delivery.return_value) == ("SUCCESSFUL", "sent")
    # The delivery queued the sweep, to run once its interval has passed.
    sweep = DBTaskResult.objects.get(task_path=sweep_unsent.module_path)
    assert sweep.status == TaskResultStatus.READY
    interval = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_INTERVAL)
    assert sweep.run_after > timezone.now() + interval - timedelta(seconds=30)


@pytest.mark.django_db(transaction=True)
def test_a_delivery_that_cannot_be_queued_keeps_the_signup_and_is_logged(
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    outbox: list[EmailMessage],
) -> None:
    # A backend that takes no task on the default queue: enqueue() raises.
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["other"]}
    }

    user = signup()

    delivery.assert_kept_unsent_and_logged(user, caplog, outbox)


@pytest.mark.django_db(transaction=True)
def test_a_task_delivers_the_welcome_email(outbox: list[EmailMessage]) -> None:
    user = signup()

    assert welcome_of(user).sent_at is not None
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_task_delivers_the_password_reset_email(
    client: Client, outbox: list[EmailMessage]
) -> None:
    delivery.assert_a_reset_asked_for_is_delivered(client, outbox)


@pytest.mark.django_db(transaction=True)
def test_a_password_reset_is_queued_only_after_commit(
    client: Client, queue: None
) -> None:
    user = UserFactory()

    # The page queues only the lookup, for the worker.
    client.post("/accounts/password_reset/", {"email": user.email})
    assert queued(request_password_resets) == [[user.email]]
    assert queued() == [[welcome_of(user).pk]]

    with transaction.atomic():
        request_password_resets.call(user.email, domain="testserver", use_https=False)
        assert queued() == [[welcome_of(user).pk]]

    reset = Notification.objects.get(user=user, kind="password_reset")
    assert queued() == [[welcome_of(user).pk], [reset.pk]]


@pytest.mark.django_db
def test_running_the_task_twice_sends_one_email(
    outbox: list[EmailMessage], user: User
) -> None:
    notification = welcome_of(user)
    Notification.objects.filter(pk=notification.pk).update(sent_at=None)

    assert deliver_notification.enqueue(notification.pk).return_value == "sent"
    assert deliver_notification.enqueue(notification.pk).return_value == "skipped"
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_recorded_and_left_to_the_sweep(
    outbox: list[EmailMessage], broken_email: None
) -> None:
    user = signup()

    notification = welcome_of(user)
    assert notification.sent_at is None
    assert notification.claimed_at is None
    assert notification.attempts == 1
    assert "mail server is down" in notification.last_error


@pytest.mark.django_db
def test_a_task_for_a_row_out_of_attempts_gives_up(
    outbox: list[EmailMessage],
    user: User,
    caplog: pytest.LogCaptureFixture,
    settings: Settings,
) -> None:
    notification = welcome_of(user)
    Notification.objects.filter(pk=notification.pk).update(
        sent_at=None, attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS
    )

    assert deliver_notification.enqueue(notification.pk).return_value == "gave_up"
    assert f"Notification {notification.pk} gave up" in caplog.text
    assert outbox == []


@pytest.mark.django_db
def test_the_sweep_queues_what_is_unsent_after_its_wait(
    settings: Settings,
) -> None:
    due, not_due = delivery.rows_for_the_sweep(settings)
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    assert sweep_unsent.call() == len(due)
    queued_ids = [args[0] for args in queued()]
    assert sorted(queued_ids) == sorted(due)
    assert set(queued_ids).isdisjoint(not_due)


@pytest.mark.django_db
def test_the_sweep_waits_again_after_queueing_a_row(
    queue: None, settings: Settings
) -> None:
    """No worker takes the row: the next runs of the sweep do not queue it again."""
    notification_id = unsent("lost", age=1.5, settings=settings)

    assert sweep_unsent.call() == 1
    assert sweep_unsent.call() == 0
    assert queued() == [[notification_id]]
    # One grace period later (the row has had no attempt), it is due again.
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE)
    Notification.objects.filter(pk=notification_id).update(
        last_attempt_at=timezone.now() - 1.5 * grace
    )
    assert sweep_unsent.call() == 1


@pytest.mark.django_db
def test_the_sweep_keeps_one_next_run_queued(queue: None, settings: Settings) -> None:
    sweep_unsent.call()
    sweep_unsent.call()
    deliver_notification.call(0)

    assert queued(sweep_unsent) == [[]]
    next_run = DBTaskResult.objects.get(task_path=sweep_unsent.module_path)
    interval = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_INTERVAL)
    assert next_run.run_after > timezone.now() + interval - timedelta(seconds=30)


@pytest.mark.django_db
def test_the_sweep_sends_a_lost_welcome(
    outbox: list[EmailMessage], settings: Settings
) -> None:
    notification_id = unsent("lost", age=2, settings=settings)

    assert sweep_unsent.enqueue().return_value == 1
    assert Notification.objects.get(pk=notification_id).sent_at is not None
    assert [message.to for message in outbox] == [["lost@example.com"]]


@pytest.mark.django_db(transaction=True)
def test_a_failed_send_is_sent_by_the_worker_once_the_sweep_finds_it_due(
    queue: None,
    outbox: list[EmailMessage],
    broken_email: None,
    settings: Settings,
) -> None:
    user = signup()
    run_worker()
    notification = welcome_of(user)
    assert (notification.attempts, notification.sent_at) == (1, None)

    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    # Its wait after one attempt, 2 x NOTIFICATIONS_SWEEP_GRACE, is over.
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE)
    Notification.objects.filter(pk=notification.pk).update(
        last_attempt_at=timezone.now() - 2.5 * grace
    )
    DBTaskResult.objects.filter(task_path=sweep_unsent.module_path).update(
        run_after=timezone.now()
    )
    run_worker()

    notification.refresh_from_db()
    assert notification.attempts == 2
    assert notification.sent_at is not None
    assert [message.to for message in outbox] == [["ada@example.com"]]


def task_row(status: TaskResultStatus, started_ago: float) -> DBTaskResult:
    """A delivery's row in the task table, `status`, started `started_ago` seconds ago."""
    result = deliver_notification.enqueue(0)
    DBTaskResult.objects.filter(pk=result.id).update(
        status=status,
        started_at=timezone.now() - timedelta(seconds=started_ago),
        worker_ids=["worker-killed-with-sigkill"],
    )
    return DBTaskResult.objects.get(pk=result.id)


@pytest.mark.django_db
def test_the_sweep_marks_failed_a_task_left_running_by_a_dead_worker(
    queue: None, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    timeout = settings.NOTIFICATIONS_STUCK_TASK_TIMEOUT
    stuck = task_row(TaskResultStatus.RUNNING, started_ago=timeout + 60)

    sweep_unsent.call()

    stuck.refresh_from_db()
    assert stuck.status == TaskResultStatus.FAILED
    assert stuck.finished_at is not None
    assert stuck.exception_class_path.endswith("stuck_tasks.WorkerLost")
    assert "worker-killed-with-sigkill" in stuck.traceback
    # The admin and the task framework read the row as any failed task.
    assert stuck.task_result.status == TaskResultStatus.FAILED
    assert f"Task {stuck.pk} ({deliver_notification.module_path}) RUNNING" in (
        caplog.text
    )
    assert "worker-killed-with-sigkill" in caplog.text


@pytest.mark.django_db
def test_the_sweep_leaves_a_slow_task_running_and_finished_tasks_alone(
    queue: None, settings: Settings
) -> None:
    timeout = settings.NOTIFICATIONS_STUCK_TASK_TIMEOUT
    slow = task_row(TaskResultStatus.RUNNING, started_ago=timeout - 60)
    done = task_row(TaskResultStatus.SUCCESSFUL, started_ago=timeout + 60)
    failed = task_row(TaskResultStatus.FAILED, started_ago=timeout + 60)

    sweep_unsent.call()

    assert DBTaskResult.objects.get(pk=slow.pk).status == TaskResultStatus.RUNNING
    assert DBTaskResult.objects.get(pk=done.pk).status == TaskResultStatus.SUCCESSFUL
    assert DBTaskResult.objects.get(pk=failed.pk).traceback == ""


def test_the_stuck_task_timeout_is_well_above_the_longest_delivery(
    settings: Settings,
) -> None:
    """A delivery holds its claim NOTIFICATIONS_CLAIM_TIMEOUT at most, its send
    the SMTP timeout at most: a task still running then is not a slow one."""
    smtp_timeout = settings.SMTP_EMAIL_DEFAULTS["timeout"]
    longest = max(settings.NOTIFICATIONS_CLAIM_TIMEOUT, smtp_timeout)
    stuck_after = settings.NOTIFICATIONS_STUCK_TASK_TIMEOUT
    assert stuck_after >= 2 * longest
