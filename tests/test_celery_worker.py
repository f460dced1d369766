"""background=celery against a real Redis: workers deliver every welcome, exactly once.

A project rendered with Celery (SQLite, then PostgreSQL) runs real
`celery -A config worker` and `celery -A config beat` processes with local
settings (tasks are not eager) and Django's file email backend. The tests
create users through the ORM in separate processes, and read back the rows
and the email files. No mocks.

Each test queues under its own Redis key prefix (or on a Redis it starts),
starts only processes it stops itself, by process group, and cleans up.
"""

import os
import shutil
import signal
import time
from collections import Counter
from pathlib import Path

from conftest import unavailable
from support.harness import free_port
from support.worker_site import SETUP, CelerySite, exactly_once, fixtures, marks

pytestmark = marks("celery-worker")

DELIVER_BY_HAND = (
    SETUP
    + """
from django.apps import apps
from config.celery import app
notification = apps.get_model("notifications", "Notification").objects.get(
    user__username=sys.argv[1]
)
for _ in range(int(sys.argv[2])):
    app.tasks["notifications.deliver"].delay(notification.pk)
"""
)

IDS = (
    SETUP
    + """
from django.apps import apps
Notification = apps.get_model("notifications", "Notification")
rows = Notification.objects.filter(user__username__startswith=sys.argv[1])
print(*rows.values_list("pk", flat=True))
"""
)


# A project for each database, migrated; a site on its emptied database.
project, site = fixtures(CelerySite)


def test_a_worker_welcomes_fifty_new_users(site):
    site.worker()

    site.sign_up("fifty", 50)

    site.assert_welcomed_once("fifty", 50)


def test_a_rolled_back_signup_queues_nothing(site):
    site.sign_up_and_roll_back("rolled_back")

    assert site.rows("rolled_back") == {}
    assert site.broker_keys() == 0
    # The same check sees the message of a committed signup.
    site.sign_up("committed")
    assert site.broker_keys() > 0
    site.worker()
    site.assert_welcomed_once("committed", 1)


def test_signups_survive_a_broker_outage_and_beat_sends_each_welcome_once(site):
    if not (redis_server := shutil.which("redis-server")):
        unavailable("redis-server is not installed: the test starts its own Redis")
    port = free_port()
    site.env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{port}/0"
    site.env |= {"NOTIFICATIONS_SWEEP_INTERVAL": "1", "NOTIFICATIONS_SWEEP_GRACE": "1"}

    signups = site.sign_up("outage", 5)

    rows = site.rows("outage")
    assert rows == {f"outage{n}": [False, 0] for n in range(5)}
    assert signups.stderr.count("was not queued") == 5, signups.stderr
    ids = site.python(IDS, "outage").stdout.split()
    assert all(f"Notification {i} was not queued" in signups.stderr for i in ids)

    site.start(
        "redis", redis_server, "--port", port, "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no",
        ready="Ready to accept connections",
    )  # fmt: skip
    site.worker()
    site.beat()

    assert site.rows("outage", "all sent") == {
        f"outage{n}": [True, 1] for n in range(5)
    }
    time.sleep(3)  # the sweep keeps running: nothing goes out twice
    assert site.emails() == exactly_once("outage", 5), site.logs()


def crash_settings(site):
    """A slow send, and a claim and a visibility timeout short enough to wait for."""
    site.slow_email(delay=3)
    site.env["NOTIFICATIONS_CLAIM_TIMEOUT"] = "5"
    site.transport(
        global_keyprefix=site.prefix,
        visibility_timeout=7,
        # Look for tasks to redeliver every second; a worker killed while
        # looking leaves its lock behind for 3 s (not kombu's 5 minutes).
        unacked_restore_interval=1,
        unacked_restore_throttle=1,
        unacked_mutex_expire=3,
    )


def test_a_worker_killed_mid_send_is_replaced_and_the_user_gets_one_email(site):
    crash_settings(site)
    worker = site.worker()
    site.sign_up("killed")

    site.sending()
    site.kill(worker)
    worker.wait()
    assert site.emails() == Counter(), "the kill came after the send"
    site.worker()

    assert site.rows("killed", "all sent") == {"killed0": [True, 2]}, site.logs()
    assert site.emails() == exactly_once("killed", 1)


def test_a_pool_process_killed_mid_send_is_rejected_and_redelivered(site):
    crash_settings(site)
    worker = site.worker(concurrency=1)
    site.sign_up("lost")

    site.sending()
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text()
    for child in children.split():
        os.kill(int(child), signal.SIGKILL)
    assert site.emails() == Counter(), "the kill came after the send"

    assert site.rows("lost", "all sent") == {"lost0": [True, 2]}, site.logs()
    assert site.emails() == exactly_once("lost", 1)
    assert "WorkerLostError" in site.logs()


def test_the_same_notification_delivered_three_times_sends_one_email(site):
    site.slow_email(delay=1)
    site.env["NOTIFICATIONS_CLAIM_TIMEOUT"] = "3"
    site.sign_up("twice")  # queues the first delivery
    site.python(DELIVER_BY_HAND, "twice0", 2)

    site.worker(concurrency=2)

    assert site.rows("twice", "all sent") == {"twice0": [True, 1]}, site.logs()
    site.broker_keys("idle")  # a delivery that found the row claimed runs again
    assert site.emails() == exactly_once("twice", 1), site.logs()
    assert site.rows("twice") == {"twice0": [True, 1]}
    log = site.logs()  # the worker logs what each of the three runs returned
    assert (log.count("succeeded in"), log.count(": 'sent'")) == (3, 1), log
