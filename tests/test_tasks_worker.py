"""background=django-tasks with real `manage.py db_worker` processes: every welcome, once.

A project rendered with django-tasks (SQLite, then PostgreSQL) runs real
`db_worker` processes with local settings (tasks go to the database, not
ImmediateBackend) and Django's file email backend. The tests create users
through the ORM in separate processes, or through the signup page of a real
`runserver`, and read back the rows, the task table and the email files.
No mocks.

Each test starts on a flushed database, starts only processes it stops
itself, by process group. The site and the scripts that do not depend on
the runner are tests/support/worker_site.py's.
"""

import http.cookiejar
import json
import re
import threading
import urllib.parse
import urllib.request
from collections import Counter

from support.harness import free_port
from support.worker_site import SETUP, SIGN_UP, TasksSite, exactly_once, fixtures, marks

pytestmark = marks("tasks-worker")

# Queues `count` more deliveries of a user's welcome, as a retry or a
# duplicate would.
DELIVER_BY_HAND = (
    SETUP
    + """
from django.apps import apps
from django.utils.module_loading import import_string
deliver = import_string(
    apps.get_app_config("notifications").name + ".tasks.deliver_notification"
)
notification = apps.get_model("notifications", "Notification").objects.get(
    user__username=sys.argv[1]
)
for _ in range(int(sys.argv[2])):
    deliver.enqueue(notification.pk)
"""
)

# A signup whose task was never queued: the row is committed, the task is
# not, as a web process killed between commit and enqueue, or an enqueue
# that failed, leaves it.
SIGN_UP_UNQUEUED = (
    SIGN_UP
    + """
from django.apps import apps
DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
DBTaskResult.objects.all().delete()
"""
)

# Prints [task path, ...] of every task in the task table.
QUEUED = (
    SETUP
    + """
from django.apps import apps
DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
print(json.dumps(sorted(DBTaskResult.objects.values_list("task_path", flat=True))))
"""
)


# Prints the SQLite connection's journal mode and how it begins transactions.
SQLITE_MODE = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0], connection.transaction_mode)
"""


# A project for each database, migrated; a site on its emptied database.
project, site = fixtures(TasksSite)


def test_a_worker_welcomes_fifty_new_users(site):
    site.worker()

    site.sign_up("fifty", 50)

    site.assert_welcomed_once("fifty", 50)
    assert site.deliveries() == [["SUCCESSFUL", "sent"]] * 50


def test_a_rolled_back_signup_queues_nothing(site):
    site.sign_up_and_roll_back("rolled_back")

    assert site.rows("rolled_back") == {}
    assert site.deliveries() == []
    # The same check sees the task of a committed signup.
    site.sign_up("committed")
    assert site.deliveries(timeout=0) == [["READY", None]]
    site.worker()
    site.assert_welcomed_once("committed", 1)


def test_a_worker_killed_mid_send_is_restarted_and_each_user_gets_one_email(site):
    site.slow_email(delay=3)
    # A claim expires after 5 s; a row is due 1 s x 2**attempts after its try.
    site.env |= {"NOTIFICATIONS_CLAIM_TIMEOUT": "5", "NOTIFICATIONS_SWEEP_GRACE": "1"}
    worker = site.worker()
    site.sign_up("killed", 2)

    site.sending()
    site.kill(worker)
    worker.wait()
    assert site.emails() == Counter(), "the kill came after the send"
    site.worker()

    # killed0's task died with the worker (it stays RUNNING); once its claim
    # expires the sweep queues it again.
    rows = site.rows("killed", "all sent")
    assert rows == {"killed0": [True, 2], "killed1": [True, 1]}, site.logs()
    assert site.emails() == exactly_once("killed", 2)


def test_a_fresh_worker_sends_a_signup_whose_task_was_never_queued(site):
    """No other traffic: the worker's schedule_sweep starts the sweep, which sends it."""
    site.env["NOTIFICATIONS_SWEEP_GRACE"] = "1"  # due 1 s after the signup
    site.python(SIGN_UP_UNQUEUED, "unqueued", 1)
    assert json.loads(site.python(QUEUED).stdout) == [], "a task is queued already"

    site.worker()

    # Within a few sweep intervals (1 s here), not the test's whole wait.
    rows = site.rows("unqueued", "all sent", timeout=20)
    assert rows == {"unqueued0": [True, 1]}, site.logs()
    assert site.emails() == exactly_once("unqueued", 1)


def test_the_same_notification_delivered_three_times_sends_one_email(site):
    site.slow_email(delay=1)
    site.env["NOTIFICATIONS_CLAIM_TIMEOUT"] = "3"
    site.sign_up("twice")  # queues the first delivery
    site.python(DELIVER_BY_HAND, "twice0", 2)

    site.worker()
    site.worker()

    assert site.rows("twice", "all sent") == {"twice0": [True, 1]}, site.logs()
    deliveries = site.deliveries()
    assert len(deliveries) == 3, deliveries
    assert [value for _, value in deliveries].count("sent") == 1, deliveries
    assert site.emails() == exactly_once("twice", 1), site.logs()
    assert site.rows("twice") == {"twice0": [True, 1]}


SIGNUP_THREADS, SIGNUPS_PER_THREAD = 4, 10


def sign_up_over_http(base_url, prefix, count, failures):
    """Sign up `count` users through the signup page, each as a new visitor."""
    for n in range(count):
        username = f"{prefix}{n}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        try:
            page = opener.open(f"{base_url}/accounts/signup/", timeout=60).read()
            token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            form = {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": username,
                "email": f"{username}@example.com",
                "password1": "correct-horse-battery",
                "password2": "correct-horse-battery",
            }
            response = opener.open(
                f"{base_url}/accounts/signup/",
                urllib.parse.urlencode(form).encode(),
                timeout=60,
            )
            if not response.url.endswith("/accounts/signup/done/"):
                failures.append(f"{username}: ended on {response.url}")
        except Exception as error:
            failures.append(f"{username}: {error!r}")


def test_concurrent_signups_through_the_server_while_the_worker_runs(site):
    """Signups from 4 visitors at once on runserver, next to db_worker: no "database is locked".

    SQLite lets one process write at a time; its settings (WAL, IMMEDIATE
    transactions, a busy timeout) make the others wait instead of failing.
    The test checks that both processes' settings turn them on; the load
    itself would pass with SQLite's defaults too (see the template README).
    """
    # Production's password hashing would take most of the time: skip it.
    site.env["DJANGO_SETTINGS_MODULE"] = "fast_hash_settings"
    # Every visitor comes from the loopback: no limit on signups per address.
    site.env["SIGNUP_ATTEMPTS_PER_ADDRESS"] = "1000"
    if site.project.database == "sqlite":
        # What the load runs on, as `manage.py shell` sees it with the settings
        # of each process (the web process's, the worker's): WAL, IMMEDIATE.
        for settings_module in ("fast_hash_settings", "config.settings.local"):
            connection = site.project.py(
                "manage.py", "shell", "--no-imports", "-c", SQLITE_MODE,
                env={**site.env, "DJANGO_SETTINGS_MODULE": settings_module},
            ).stdout.split()  # fmt: skip
            assert connection == ["wal", "IMMEDIATE"], settings_module
    port = free_port()
    site.server(port)
    site.worker()

    failures = []
    threads = [
        threading.Thread(
            target=sign_up_over_http,
            args=(
                f"http://127.0.0.1:{port}",
                f"load{t}_",
                SIGNUPS_PER_THREAD,
                failures,
            ),
        )
        for t in range(SIGNUP_THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == [], site.logs()
    total = SIGNUP_THREADS * SIGNUPS_PER_THREAD
    rows = site.rows("load", "all sent")
    assert len(rows) == total
    assert set(map(tuple, rows.values())) == {(True, 1)}
    assert sum(site.emails().values()) == total
    assert "database is locked" not in site.logs()
