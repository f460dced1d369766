"""A rendered project run with real worker processes: one subclass per runner.

For tests/test_celery_worker.py (`CelerySite`) and tests/test_tasks_worker.py
(`TasksSite`): local settings (tasks are not eager), Django's file email
backend writing to the site's own mail directory, scripts run in the project
to create users and read rows back, and processes started and stopped by
process group (support/harness.py). No mocks.
"""

import email
import json
import signal
import uuid
from collections import Counter

import pytest

from support import harness

SLOW_EMAIL = "slow_email.SlowEmailBackend"
FILE_EMAIL = "django.core.mail.backends.filebased.EmailBackend"
# The separator Django's file backend writes after each message.
MESSAGE_END = b"\n" + b"-" * 79 + b"\n"
WAIT = harness.WAIT
LOCAL = {"DJANGO_SETTINGS_MODULE": "config.settings.local"}

SETUP = "import sys, json, time, django; django.setup()\n"

SIGN_UP = (
    SETUP
    + """
from django.contrib.auth import get_user_model
prefix, count = sys.argv[1], int(sys.argv[2])
for n in range(count):
    # No password: hashing one would dominate the run time.
    get_user_model().objects.create_user(f"{prefix}{n}", f"{prefix}{n}@example.com")
"""
)

SIGN_UP_AND_ROLL_BACK = (
    SETUP
    + """
from django.contrib.auth import get_user_model
from django.db import transaction
try:
    with transaction.atomic():
        get_user_model().objects.create_user(sys.argv[1], f"{sys.argv[1]}@example.com")
        raise RuntimeError("the rest of the signup failed")
except RuntimeError:
    pass
"""
)

# Prints {username: [sent, attempts]} once `condition` holds for the
# notifications of the users whose name starts with the prefix.
ROWS_WHEN = (
    SETUP
    + """
from django.apps import apps
Notification = apps.get_model("notifications", "Notification")
prefix, condition, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
deadline = time.monotonic() + timeout
while True:
    rows = Notification.objects.filter(user__username__startswith=prefix)
    ok = {
        "all sent": lambda: rows.exists() and not rows.filter(sent_at=None).exists(),
        "now": lambda: True,
    }[condition]()
    if ok or time.monotonic() > deadline:
        break
    time.sleep(0.05)
print(json.dumps({n.user.username: [n.sent_at is not None, n.attempts]
                  for n in rows.select_related("user")}))
"""
)


def exactly_once(prefix, count):
    return Counter({f"{prefix}{n}@example.com": 1 for n in range(count)})


def marks(group):
    """A worker test module's marks.

    One xdist worker runs its tests one after the other: they share a
    project (its SQLite file) and the machine's two cores.
    """
    return [pytest.mark.slow, pytest.mark.xdist_group(group)]


def fixtures(site_class):
    """The `project` and `site` fixtures of a runner's tests: `project, site = fixtures(...)`."""

    @pytest.fixture(scope="module", params=["sqlite", "postgresql"])
    def project(request, render, make_project, tmp_path_factory):
        """A project with the site's runner, migrated, for each database."""
        directory = tmp_path_factory.mktemp(f"{site_class.background}-{request.param}")
        return site_class.migrated_project(
            render, make_project, directory, request.param
        )

    @pytest.fixture
    def site(project, tmp_path):
        """The project on an empty database, with a site of its own."""
        site = site_class(project, tmp_path)
        site.flush()
        yield site
        site.close()

    return project, site


class Site:
    """A rendered project with its own mail directory and the processes it started."""

    background = None  # the runner, the project's `background` answer

    @classmethod
    def migrated_project(cls, render, make_project, directory, database):
        """A project with this site's runner, rendered and migrated."""
        path = render(
            directory,
            project_slug="worker_check",
            database=database,
            background=cls.background,
        )
        project = make_project(path, database, cls.background).with_services()
        project.py("manage.py", "migrate", "--no-input", env=LOCAL)
        return project

    def __init__(self, project, tmp_path):
        self.project = project
        self.tmp_path = tmp_path
        self.mail = tmp_path / "mail"
        self.processes = []
        self.env = {
            **LOCAL,
            "DJANGO_EMAIL_BACKEND": FILE_EMAIL,
            "DJANGO_EMAIL_OPTIONS": json.dumps({"file_path": str(self.mail)}),
            "PYTHONPATH": str(harness.SUPPORT),
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
        process = harness.start(
            args,
            self.tmp_path / f"{name}-{len(self.processes)}.log",
            self.project.path,
            {**self.project.env, **self.env},
        )
        self.processes.append(process)
        harness.wait_for_output(process, ready, f"{name} did not start")
        return process

    def kill(self, process, sig=signal.SIGKILL):
        """Signal the whole process group of a process this site started."""
        harness.signal_group(process, sig)

    def close(self):
        """Stop every process (and its children): SIGTERM, then SIGKILL after 20 s.

        db_worker ends its task first; so does a Celery worker (warm shutdown).
        """
        for process in reversed(self.processes):
            harness.stop(process, timeout=20)

    def flush(self):
        """Empty the project's database (the task table too)."""
        self.project.py("manage.py", "flush", "--no-input", env=LOCAL)

    def sign_up(self, prefix, count=1):
        return self.python(SIGN_UP, prefix, count)

    def sign_up_and_roll_back(self, username):
        """A signup whose transaction rolls back: the rest of it failed."""
        return self.python(SIGN_UP_AND_ROLL_BACK, username)

    def rows(self, prefix, condition="now", timeout=WAIT):
        """{username: [sent, attempts]} once `condition` holds, or after `timeout`."""
        return json.loads(self.python(ROWS_WHEN, prefix, condition, timeout).stdout)

    def assert_welcomed_once(self, prefix, count):
        """The `count` users under `prefix`: each welcomed at the first attempt, once."""
        rows = self.rows(prefix, "all sent")
        assert rows == {f"{prefix}{n}": [True, 1] for n in range(count)}, self.logs()
        assert self.emails() == exactly_once(prefix, count)

    def sending(self):
        """Wait until a slow send has started (its backend marks the start)."""
        started = harness.poll(lambda: any(self.mail.glob("sending-*")), step=0.02)
        if not started:
            pytest.fail(f"no send started:\n{self.logs()}", pytrace=False)

    def emails(self):
        """How many emails each recipient got, read from the mail directory."""
        recipients = Counter()
        for path in sorted(self.mail.glob("*.log")):
            for raw in path.read_bytes().split(MESSAGE_END):
                if raw.strip():
                    recipients[email.message_from_bytes(raw)["To"]] += 1
        return recipients

    def logs(self):
        return harness.output(*self.processes)


class CelerySite(Site):
    """background=celery: `celery worker` and `celery beat`, under a Redis key prefix of its own."""

    background = "celery"

    def __init__(self, project, tmp_path):
        """On the project's Redis (Project.with_services), under a fresh key prefix."""
        super().__init__(project, tmp_path)
        self.prefix = f"test-{uuid.uuid4().hex[:12]}:"
        self.broker_url = project.env["CELERY_BROKER_URL"]
        self.env["CELERY_BROKER_URL"] = self.broker_url
        self.transport(global_keyprefix=self.prefix)

    def close(self):
        """Stop the processes, then delete the site's keys from Redis."""
        super().close()
        self.broker_keys("delete")

    def transport(self, **options):
        """Set the broker transport options (JSON in the environment)."""
        self.env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps(options)

    def celery(self, command, *args, ready):
        python = self.project.python
        celery = [python, "-m", "celery", "-A", "config", command]
        return self.start(command, *celery, *args, ready=ready)

    def worker(self, concurrency=2):
        return self.celery(
            "worker",
            "--loglevel=info",
            f"--concurrency={concurrency}",
            f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            ready=" ready.",
        )

    def beat(self):
        schedule = self.tmp_path / "celerybeat-schedule"
        return self.celery(
            "beat", "--loglevel=info", f"--schedule={schedule}", "--max-interval=1",
            ready="beat: Starting",
        )  # fmt: skip

    def broker_keys(self, action="count"):
        """Count this site's keys in Redis; "idle": once its tasks are all done."""
        python = self.project.python
        return harness.redis_keys(python, self.broker_url, self.prefix, action)


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


class TasksSite(Site):
    """background=django-tasks: the Procfile's `db_worker` line, and `runserver`."""

    background = "django-tasks"

    def __init__(self, project, tmp_path):
        super().__init__(project, tmp_path)
        self.env |= {
            "DJANGO_DEBUG": "False",
            # runserver prints that it is ready through a buffered stdout.
            "PYTHONUNBUFFERED": "1",
            # A sweep every second (what it queues waits for the default grace).
            "NOTIFICATIONS_SWEEP_INTERVAL": "1",
        }

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

    def deliveries(self, timeout=WAIT):
        """[[status, return value], ...] of the delivery tasks, once all have run."""
        return json.loads(self.python(DELIVERIES, timeout).stdout)
