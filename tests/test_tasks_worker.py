"""background=django-tasks with real `manage.py db_worker` processes: every welcome, once.

A project rendered with django-tasks (SQLite, then PostgreSQL) runs real
`db_worker` processes with local settings (tasks go to the database, not
ImmediateBackend) and Django's file email backend. The tests create users
through the ORM in separate processes, or through the signup page of a real
`runserver`, and read back the rows, the task table and the email files.
No mocks.

Each test starts on a flushed database, starts only processes it stops
itself, by process group. The scripts and helpers that do not depend on the
runner come from test_celery_worker.py.
"""

import contextlib
import email
import http.cookiejar
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import Counter

import pytest
from conftest import Project, venv_environ
from test_celery_worker import (
    FILE_EMAIL,
    LOCAL,
    MESSAGE_END,
    ROWS_WHEN,
    SETUP,
    SIGN_UP,
    SIGN_UP_AND_ROLL_BACK,
    SLOW_EMAIL,
    SUPPORT,
    WAIT,
    exactly_once,
    free_port,
)

# One xdist worker runs these tests one after the other: they share a
# project (its SQLite file) and the machine's two cores.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tasks-worker")]

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

# Prints [[status, return value], ...] of the delivery tasks in the task
# table, once none is READY or RUNNING (or after `timeout` seconds).
DELIVERIES = (
    SETUP
    + """
from django.apps import apps
DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
tasks = DBTaskResult.objects.filter(task_path__endswith=".deliver_notification")
deadline = time.monotonic() + float(sys.argv[1])
while tasks.filter(status__in=["READY", "RUNNING"]).exists():
    if time.monotonic() > deadline:
        break
    time.sleep(0.1)
print(json.dumps(sorted(tasks.values_list("status", "return_value"))))
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


class Site:
    """A rendered project with its own mail directory and processes."""

    def __init__(self, project, tmp_path):
        self.project = project
        self.tmp_path = tmp_path
        self.mail = tmp_path / "mail"
        self.processes = []
        self.env = {
            **LOCAL,
            "DJANGO_DEBUG": "False",
            "DJANGO_EMAIL_BACKEND": FILE_EMAIL,
            "DJANGO_EMAIL_OPTIONS": json.dumps({"file_path": str(self.mail)}),
            "PYTHONPATH": str(SUPPORT),
            # runserver prints that it is ready through a buffered stdout.
            "PYTHONUNBUFFERED": "1",
            # A sweep every second (what it queues waits for the default grace).
            "NOTIFICATIONS_SWEEP_INTERVAL": "1",
        }

    def slow_email(self, delay):
        self.env["DJANGO_EMAIL_BACKEND"] = SLOW_EMAIL
        self.env["DJANGO_EMAIL_OPTIONS"] = json.dumps(
            {"file_path": str(self.mail), "delay": delay}
        )

    def python(self, code, *args, **kwargs):
        """Run a script in the project, with this site's settings."""
        return self.project.py("-c", code, *args, env=self.env, **kwargs)

    def start(self, name, *args, ready):
        """Start a process in its own process group; wait for `ready` in its log."""
        log = self.tmp_path / f"{name}-{len(self.processes)}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(arg) for arg in args],
                cwd=self.project.path,
                env={**self.project.env, **self.env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process.log = log
        self.processes.append(process)
        deadline = time.monotonic() + WAIT
        while ready not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{name} did not start:\n{log.read_text()}", pytrace=False)
            time.sleep(0.1)
        return process

    def worker(self):
        """The Procfile's worker line (schedule_sweep, then db_worker), in a shell."""
        [line] = [
            line.removeprefix("worker:").strip()
            for line in (self.project.path / "Procfile").read_text().splitlines()
            if line.startswith("worker:")
        ]
        assert line.endswith("python manage.py db_worker"), line
        options = (
            "--no-reload --no-startup-delay --interval=0.2 "
            f"--worker-id=test-{uuid.uuid4().hex[:8]}"
        )
        # `python` is the project's: its virtualenv comes first on PATH.
        return self.start(
            "db_worker", "sh", "-c", f"{line} {options}", ready="Starting worker"
        )

    def server(self, port):
        return self.start(
            "runserver",
            self.project.python, "manage.py", "runserver", "--noreload",
            f"127.0.0.1:{port}",
            ready="Quit the server with",
        )  # fmt: skip

    def kill(self, process, sig=signal.SIGKILL):
        """Signal the whole process group of a process this site started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)

    def stop(self, process):
        """Stop a process: SIGTERM (db_worker ends its task first), then SIGKILL."""
        self.kill(process, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill(process)
            process.wait()

    def close(self):
        for process in reversed(self.processes):
            self.stop(process)

    def sign_up(self, prefix, count=1):
        return self.python(SIGN_UP, prefix, count)

    def rows(self, prefix, condition="now", timeout=WAIT):
        """{username: [sent, attempts]} once `condition` holds, or after `timeout`."""
        return json.loads(self.python(ROWS_WHEN, prefix, condition, timeout).stdout)

    def sending(self):
        """Wait until a slow send has started (its backend marks the start)."""
        deadline = time.monotonic() + WAIT
        while not any(self.mail.glob("sending-*")):
            if time.monotonic() > deadline:
                pytest.fail(f"no send started:\n{self.logs()}", pytrace=False)
            time.sleep(0.02)

    def deliveries(self, timeout=WAIT):
        """[[status, return value], ...] of the delivery tasks, once all have run."""
        return json.loads(self.python(DELIVERIES, timeout).stdout)

    def emails(self):
        """How many emails each recipient got, read from the mail directory."""
        recipients = Counter()
        for path in sorted(self.mail.glob("*.log")):
            for raw in path.read_bytes().split(MESSAGE_END):
                if raw.strip():
                    recipients[email.message_from_bytes(raw)["To"]] += 1
        return recipients

    def logs(self):
        return "\n".join(p.log.read_text(errors="replace") for p in self.processes)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def project(request, render, project_venv, created_databases, tmp_path_factory):
    """A background=django-tasks project, migrated, for each database."""
    database = request.param
    path = render(
        tmp_path_factory.mktemp(f"tasks-{database}"),
        project_slug="worker_check",
        database=database,
        background="django-tasks",
    )
    project = Project(
        path,
        project_venv,
        database,
        "django-tasks",
        env=venv_environ(project_venv),
        created_databases=created_databases,
    ).with_services()
    project.py("manage.py", "migrate", "--no-input", env=LOCAL)
    return project


@pytest.fixture
def site(project, tmp_path):
    """The project on an empty database (the task table too)."""
    project.py("manage.py", "flush", "--no-input", env=LOCAL)
    site = Site(project, tmp_path)
    yield site
    site.close()


def test_a_worker_welcomes_fifty_new_users(site):
    site.worker()

    site.sign_up("fifty", 50)

    rows = site.rows("fifty", "all sent")
    assert rows == {f"fifty{n}": [True, 1] for n in range(50)}, site.logs()
    assert site.emails() == exactly_once("fifty", 50)
    assert site.deliveries() == [["SUCCESSFUL", "sent"]] * 50


def test_a_rolled_back_signup_queues_nothing(site):
    site.python(SIGN_UP_AND_ROLL_BACK, "rolled_back")

    assert site.rows("rolled_back") == {}
    assert site.deliveries() == []
    # The same check sees the task of a committed signup.
    site.sign_up("committed")
    assert site.deliveries(timeout=0) == [["READY", None]]
    site.worker()
    assert site.rows("committed", "all sent") == {"committed0": [True, 1]}
    assert site.emails() == exactly_once("committed", 1)


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
            if not response.url.endswith("/accounts/profile/"):
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
