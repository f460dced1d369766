"""The Celery side of delivery: what is queued and when, retries, the sweep.

Test settings run tasks eagerly, in the test itself. The tests that look at
the queue send the tasks to Celery's in-memory broker instead, or to a port
where no broker listens.
"""

import socket
from contextlib import contextmanager
from datetime import timedelta

import pytest
from celery.contrib.testing.app import TestApp, setup_default_app
from django.db import transaction
from django.utils import timezone

from ...users.tasks import request_password_resets
from ...users.tests.factories import UserFactory
from ..models import Notification
from ..tasks import deliver_notification, sweep_unsent
from . import delivery
from .delivery import signup, unsent, welcome_of


@pytest.fixture
def broker(monkeypatch):
    """`with broker(url):` sends tasks to that broker instead of running them."""
    # Celery prefers CELERY_BROKER_URL from the environment to its configuration.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)

    @contextmanager
    def use(url):
        app = TestApp(broker=url)
        with setup_default_app(app):
            app.set_current()
            yield app

    return use


def closed_port():
    """A local TCP port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def queued(broker):
    """Queue tasks in memory; the fixture takes out this app's: [(task name, args)].

    Tasks of other apps (say, one added with `manage.py newapp`) are dropped.
    """
    with (
        broker("memory://localhost/") as app,
        app.connection_for_read() as connection,
        connection.SimpleQueue("celery") as queue,
    ):
        queue.clear()

        def take_all():
            messages = [queue.get(block=False) for _ in range(queue.qsize())]
            for message in messages:
                message.ack()
            tasks = [(m.headers["task"], m.decode()[0]) for m in messages]
            return [task for task in tasks if task[0].startswith("notifications.")]

        yield take_all


@pytest.mark.django_db(transaction=True)
def test_the_delivery_is_queued_only_after_commit(queued, outbox):
    with transaction.atomic():
        user = signup()
        assert queued() == []

    assert queued() == [("notifications.deliver", [welcome_of(user).pk])]
    assert outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_signup_queues_nothing(queued, rollback):
    rollback(signup)

    assert queued() == []
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_broker_down_keeps_the_signup_and_logs_the_notification(broker, caplog, outbox):
    with broker(f"redis://127.0.0.1:{closed_port()}/0"):
        user = signup()

    delivery.assert_kept_unsent_and_logged(user, caplog, outbox)


@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_the_welcome_email(outbox):
    user = signup()

    assert welcome_of(user).sent_at is not None
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_password_reset_is_queued_only_after_commit(client, queued):
    user = UserFactory()
    queued()  # its welcome

    # The page queues only the lookup (users.request_password_resets).
    client.post("/accounts/password_reset/", {"email": user.email})
    assert queued() == []

    with transaction.atomic():
        request_password_resets(user.email, domain="testserver", use_https=False)
        assert queued() == []

    reset = Notification.objects.get(user=user, kind="password_reset")
    assert queued() == [("notifications.deliver", [reset.pk])]


@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_the_password_reset_email(client, outbox):
    delivery.assert_a_reset_asked_for_is_delivered(client, outbox)


@pytest.mark.django_db
def test_running_the_task_twice_sends_one_email(outbox, user):
    notification = welcome_of(user)
    Notification.objects.filter(pk=notification.pk).update(sent_at=None)

    assert deliver_notification.delay(notification.pk).get() == "sent"
    assert deliver_notification.delay(notification.pk).get() == "skipped"
    assert len(outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_send_is_retried_then_left_to_the_sweep(outbox, broken_email):
    user = signup()

    notification = welcome_of(user)
    assert notification.sent_at is None
    assert notification.claimed_at is None
    assert deliver_notification.max_retries is not None
    assert notification.attempts == deliver_notification.max_retries + 1
    assert "mail server is down" in notification.last_error


@pytest.mark.django_db
def test_the_sweep_queues_what_is_unsent_after_its_grace_period(queued, settings):
    due, not_due = delivery.rows_for_the_sweep(settings)
    queued()

    assert sweep_unsent() == len(due)
    queued_ids = [args[0] for _, args in queued()]
    assert sorted(queued_ids) == sorted(due)
    assert set(queued_ids).isdisjoint(not_due)


@pytest.mark.django_db
def test_the_sweep_waits_again_after_queueing_a_row(queued, settings):
    """No worker takes the row: the next runs of the sweep do not queue it again."""
    notification_id = unsent("lost", age=1.5, settings=settings)
    queued()

    assert sweep_unsent() == 1
    assert sweep_unsent() == 0
    assert queued() == [("notifications.deliver", [notification_id])]
    # One grace period later (the row has had no attempt), it is due again.
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE)
    Notification.objects.filter(pk=notification_id).update(
        last_attempt_at=timezone.now() - 1.5 * grace
    )
    assert sweep_unsent() == 1


@pytest.mark.django_db
def test_a_task_for_a_row_out_of_attempts_gives_up(outbox, user, caplog, settings):
    notification = welcome_of(user)
    Notification.objects.filter(pk=notification.pk).update(
        sent_at=None, attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS
    )

    assert deliver_notification.delay(notification.pk).get() == "gave_up"
    assert f"Notification {notification.pk} gave up" in caplog.text
    assert outbox == []


@pytest.mark.django_db
def test_the_sweep_sends_a_lost_welcome(outbox, settings):
    notification_id = unsent("lost", age=2, settings=settings)

    assert sweep_unsent() == 1
    assert Notification.objects.get(pk=notification_id).sent_at is not None
    assert [message.to for message in outbox] == [["lost@example.com"]]
