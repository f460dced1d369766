"""background=celery against a real Redis: workers deliver every welcome, exactly once.

A project rendered with Celery (SQLite, then PostgreSQL) runs real
`celery -A config worker` and `celery -A config beat` processes with local
settings (tasks are not eager) and Django's file email backend. The tests
create users through the ORM in separate processes, and read back the rows
and the email files. No mocks.

Each test queues under its own Redis key prefix (or on a Redis it starts),
starts only processes it stops itself, by process group, and cleans up.
"""

import contextlib
import email
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from conftest import Project, redis_url, run, unavailable, venv_environ

SUPPORT = Path(__file__).parent / "support"
SLOW_EMAIL = "slow_email.SlowEmailBackend"
FILE_EMAIL = "django.core.mail.backends.filebased.EmailBackend"
# The separator Django's file backend writes after each message.
MESSAGE_END = b"\n" + b"-" * 79 + b"\n"
WAIT = 60  # seconds: the bound on every wait below

# One xdist worker runs these tests one after the other: they share a
# project (its SQLite file) and the machine's two cores.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("celery-worker")]

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

# Counts (or deletes) the broker's keys under a prefix; "idle" first waits
# until no task is queued or running (reserved tasks stay in "unacked").
REDIS = """
import sys, time, redis
client = redis.Redis.from_url(sys.argv[1])
prefix, action = sys.argv[2], sys.argv[3]
deadline = time.monotonic() + 60
while action == "idle" and time.monotonic() < deadline and (
    client.llen(prefix + "celery") or client.hlen(prefix + "unacked")
):
    time.sleep(0.1)
keys = client.keys(prefix + "*")
if action == "delete" and keys:
    client.delete(*keys)
print(len(keys))
"""
LOCAL = {"DJANGO_SETTINGS_MODULE": "config.settings.local"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Site:
    """A rendered project with its own broker key prefix, mail directory and processes."""

    def __init__(self, project, tmp_path, broker_url):
        self.project = project
        self.tmp_path = tmp_path
        self.mail = tmp_path / "mail"
        self.prefix = f"test-{uuid.uuid4().hex[:12]}:"
        self.broker_url = broker_url
        self.processes = []
        self.env = {
            **LOCAL,
            "CELERY_BROKER_URL": broker_url,
            "DJANGO_EMAIL_BACKEND": FILE_EMAIL,
            "DJANGO_EMAIL_OPTIONS": json.dumps({"file_path": str(self.mail)}),
            "PYTHONPATH": str(SUPPORT),
        }
        self.transport(global_keyprefix=self.prefix)

    def transport(self, **options):
        """Set the broker transport options (JSON in the environment)."""
        self.env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps(options)

    def slow_email(self, delay):
        self.env["DJANGO_EMAIL_BACKEND"] = SLOW_EMAIL
        self.env["DJANGO_EMAIL_OPTIONS"] = json.dumps(
            {"file_path": str(self.mail), "delay": delay}
        )

    def python(self, code, *args, **kwargs):
        """Run a script in the project, with this site's settings."""
        return self.project.py("-c", code, *args, env=self.env, **kwargs)

    def start(self, name, *args, ready=None):
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
        while ready and ready not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{name} did not start:\n{log.read_text()}", pytrace=False)
            time.sleep(0.1)
        return process

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

    def kill(self, process, sig=signal.SIGKILL):
        """Signal the whole process group of a process this site started."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)

    def stop(self, process):
        """Stop a process (and its children): SIGTERM, then SIGKILL after 20 s."""
        self.kill(process, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill(process)
            process.wait()
        self.kill(process)  # children left behind, if any

    def close(self):
        for process in reversed(self.processes):
            self.stop(process)

    def sign_up(self, prefix, count=1):
        return self.python(SIGN_UP, prefix, count)

    def rows(self, prefix, condition="now", timeout=WAIT):
        """{username: [sent, attempts]} once `condition` holds, or after `timeout`."""
        result = self.python(ROWS_WHEN, prefix, condition, timeout)
        return json.loads(result.stdout)

    def sending(self):
        """Wait until a slow send has started (its backend marks the start)."""
        deadline = time.monotonic() + WAIT
        while not any(self.mail.glob("sending-*")):
            if time.monotonic() > deadline:
                pytest.fail(f"no send started:\n{self.logs()}", pytrace=False)
            time.sleep(0.02)

    def emails(self):
        """How many emails each recipient got, read from the mail directory."""
        recipients = Counter()
        for path in sorted(self.mail.glob("*.log")):
            for raw in path.read_bytes().split(MESSAGE_END):
                if raw.strip():
                    recipients[email.message_from_bytes(raw)["To"]] += 1
        return recipients

    def broker_keys(self, action="count"):
        """Count this site's keys in Redis; "idle": once its tasks are all done."""
        result = run(
            [self.project.python, "-c", REDIS, self.broker_url, self.prefix, action],
            cwd=self.tmp_path,
        )
        return int(result.stdout)

    def logs(self):
        return "\n".join(p.log.read_text(errors="replace") for p in self.processes)


def exactly_once(prefix, count):
    return Counter({f"{prefix}{n}@example.com": 1 for n in range(count)})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def project(request, render, project_venv, created_databases, tmp_path_factory):
    """A background=celery project, migrated, for each database."""
    database = request.param
    path = render(
        tmp_path_factory.mktemp(f"celery-{database}"),
        project_slug="worker_check",
        database=database,
        background="celery",
    )
    project = Project(
        path,
        project_venv,
        database,
        "celery",
        env=venv_environ(project_venv),
        created_databases=created_databases,
    ).with_services()
    project.py("manage.py", "migrate", "--no-input", env=LOCAL)
    return project


@pytest.fixture
def site(project, tmp_path):
    """The project on an empty database and the shared Redis, under a fresh key prefix."""
    project.py("manage.py", "flush", "--no-input", env=LOCAL)
    site = Site(project, tmp_path, redis_url())
    yield site
    site.close()
    site.broker_keys("delete")


def test_a_worker_welcomes_fifty_new_users(site):
    site.worker()

    site.sign_up("fifty", 50)

    rows = site.rows("fifty", "all sent")
    assert rows == {f"fifty{n}": [True, 1] for n in range(50)}, site.logs()
    assert site.emails() == exactly_once("fifty", 50)


def test_a_rolled_back_signup_queues_nothing(site):
    site.python(SIGN_UP_AND_ROLL_BACK, "rolled_back")

    assert site.rows("rolled_back") == {}
    assert site.broker_keys() == 0
    # The same check sees the message of a committed signup.
    site.sign_up("committed")
    assert site.broker_keys() > 0
    site.worker()
    assert site.rows("committed", "all sent") == {"committed0": [True, 1]}
    assert site.emails() == exactly_once("committed", 1)


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
