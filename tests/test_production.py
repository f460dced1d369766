"""The production shape, run for real: the Procfile's processes under honcho.

For each background choice, a PostgreSQL project is built as a platform
would build it (`collectstatic`), released (`honcho start release`: the
migrations), then started (`honcho start web ...`: gunicorn with
config/gunicorn.py, and the workers the choice needs) with production
settings. A client talks to gunicorn as a browser behind a TLS proxy would
(X-Forwarded-Proto: https, an Origin header, secure cookies) and signs up
through the real form; the welcome emails go over SMTP to an aiosmtpd server
run by the test (tests/support/mail_sink.py), which can also answer like a
slow or failing mail server. Then SIGTERM to honcho, as a platform stops a
release, in the middle of a send: once with time for the send to finish,
once with a send longer than honcho waits before its SIGKILL.

At the end every user has one welcome email and a sent notification, and
every line the processes logged is one JSON object.
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from conftest import BACKGROUNDS
from support import harness
from support.mail_sink import MailSink

WAIT = harness.WAIT  # seconds: the bound on every wait below
# The claim a delivery holds on its row: short, so that a killed send is
# taken over within the test, yet longer than stopping the stack takes on a
# loaded machine (the cron job's command must find the dead claim still live).
CLAIM_TIMEOUT = 25
# With background=django-tasks, the worker's sweep re-queues a failed or
# abandoned delivery NOTIFICATIONS_SWEEP_GRACE x 2**attempts seconds after its
# last try, and runs every NOTIFICATIONS_SWEEP_INTERVAL seconds: both short,
# so that a retry happens within the test. With background=none, the cron
# job's send_unsent waits as long (outbox.due()).
SWEEP_GRACE = 1
SWEEP_INTERVAL = 1
# What honcho waits, once one of its processes has exited, before it sends
# SIGKILL to the others (honcho's KILL_WAIT).
HONCHO_KILL_WAIT = 5

# Each test renders its own project, database, ports and Redis key prefix:
# the two can run side by side.
pytestmark = pytest.mark.slow

# Prints {username: {"sent": bool, "claimed": bool, "attempts": n}}.
ROWS = """
import json, django
django.setup()
from django.apps import apps
Notification = apps.get_model("notifications", "Notification")
print(json.dumps({
    n.user.username: {"sent": n.sent_at is not None, "claimed": n.claimed_at is not None,
                      "attempts": n.attempts, "error": n.last_error}
    for n in Notification.objects.select_related("user")
}))
"""

# A line of honcho's output: "12:00:00 web.1    | the process's line".
HONCHO_LINE = re.compile(r"^\d\d:\d\d:\d\d (?P<name>\S+)\s*\| ?(?P<line>.*)$")
# The line each worker logs once it takes tasks.
WORKER_READY = {
    "celery": r"ready\.",
    "django-tasks": r"Starting worker worker_id=",
}
# What Celery prints itself, not through logging, when it is stopped.
CELERY_PLAIN = {"", "worker: Warm shutdown (MainProcess)"}


class Stack:
    """The project's Procfile processes, started and stopped through honcho."""

    def __init__(self, project, env, tmp_path):
        self.project = project
        self.env = {**project.env, **env}
        self.tmp_path = tmp_path
        self.port = int(env["PORT"])
        self.names = [
            line.split(":")[0]
            for line in (project.path / "Procfile").read_text().splitlines()
            if line.strip() and not line.startswith("release:")
        ]
        self.honcho = None
        self.logs = []

    def release(self):
        return self.py("-m", "honcho", "start", "release")

    @contextlib.contextmanager
    def built_and_released(self, redis_prefix):
        """Build and release on an empty database; on exit, kill whatever is
        left and, with Celery, delete the broker's keys under `redis_prefix`."""
        # The build step, then the release phase, as a platform runs them.
        self.py("manage.py", "collectstatic", "--no-input")
        self.release()
        # An empty database, even where an earlier run left this one behind.
        self.py("manage.py", "flush", "--no-input")
        try:
            yield self
        finally:
            self.kill()
            if self.project.background == "celery":
                broker = self.project.env["CELERY_BROKER_URL"]
                harness.redis_keys(self.project.python, broker, redis_prefix, "delete")

    def start(self):
        """Start every process but release; return once gunicorn answers."""
        log = self.tmp_path / f"honcho-{len(self.logs)}.log"
        self.logs.append(log)
        self.honcho = harness.start(
            [self.project.python, "-m", "honcho", "start", *self.names],
            log,
            self.project.path,
            self.env,
        )
        harness.wait_for_http(
            f"http://127.0.0.1:{self.port}/healthz/",
            [self.honcho],
            "the stack did not start",
            # Behind the TLS proxy: production settings redirect plain HTTP.
            headers={"X-Forwarded-Proto": "https"},
            step=0.2,
        )
        if "worker" in self.names:
            ready = WORKER_READY[self.project.background]
            harness.wait_for(
                lambda: re.search(ready, harness.output(self.honcho)),
                "the worker did not start",
                [self.honcho],
                step=0.2,
            )

    def stop(self, name=None):
        """SIGTERM to honcho, which passes it to every process group, or to the
        main process of `name` alone, after which honcho stops the others.
        Wait until every process is gone."""
        pid = self.honcho.pid if name is None else self.main_pid(name)
        os.kill(pid, signal.SIGTERM)
        try:
            self.honcho.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"honcho did not stop:\n{self.log()}", pytrace=False)
        # What honcho started and gunicorn forked: all gone.
        text = self.logs[-1].read_text(errors="replace")
        pids = re.findall(r"started \(pid=(\d+)\)", text)
        pids += re.findall(r"Booting worker with pid: (\d+)", text)
        assert pids
        alive = [pid for pid in pids if running(int(pid))]
        assert not alive, f"still running: {alive}\n{self.log()}"

    def main_pid(self, name):
        """The pid of a Procfile process's command, below the shell honcho runs it with."""
        text = self.logs[-1].read_text(errors="replace")
        pid = re.search(rf"{name}\.1 started \(pid=(\d+)\)", text)[1]
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        if argv0.endswith(b"sh"):
            pid = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0]
        return int(pid)

    def kill(self):
        """Clean-up only: the process group this stack started, whatever is left."""
        if self.honcho is not None:
            harness.signal_group(self.honcho, signal.SIGKILL)
            self.honcho.wait()

    def log(self):
        return "\n".join(log.read_text(errors="replace") for log in self.logs)

    def lines(self):
        """(process name, line) of everything the processes wrote."""
        for line in self.log().splitlines():
            if not line:
                continue
            match = HONCHO_LINE.match(line)
            assert match, f"not a honcho line: {line!r}"
            yield match["name"].split(".")[0], match["line"]

    def py(self, *args):
        return self.project.py(*args, env=self.env)

    def rows(self):
        return json.loads(self.py("-c", ROWS).stdout)


def stack_environ(port, mail_port):
    """The Procfile stack's environment: production settings, gunicorn on `port`
    (2 workers), the emails to the mail sink at `mail_port`."""
    return harness.production_environ() | {
        "DJANGO_EMAIL_OPTIONS": json.dumps({"host": "127.0.0.1", "port": mail_port}),
        # Every receiver counts as slow: the guard's warnings show up, and
        # name every project receiver that ran in a request.
        "DJANGO_SIGNALS_SLOW_RECEIVER_GUARD": "True",
        "DJANGO_SIGNALS_SLOW_RECEIVER_MS": "0",
        "PORT": str(port),
        # The config file binds all interfaces; the tests, the loopback.
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 2",
        # This machine runs the tests as root, which Celery warns about
        # with a Python warning before any logging is set up; production
        # processes should not run as root.
        "PYTHONWARNINGS": "ignore::UserWarning:celery.platforms",
    }


def running(pid):
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def in_thread(function, *args):
    """Run function(*args) in a thread; return the thread and a list for its result."""
    result = []

    def target():
        try:
            result.append(function(*args))
        except OSError as error:  # a request cut off by a killed server
            result.append(error)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


@pytest.fixture(params=BACKGROUNDS)
def stack(request, render, make_project, tmp_path):
    """A PostgreSQL project for one background choice, built and released."""
    background = request.param
    path = render(
        tmp_path / "project",
        project_slug="prod_check",
        database="postgresql",
        background=background,
    )
    project = make_project(path, "postgresql", background).with_services()
    port = harness.free_port()
    with MailSink() as mail:
        env = stack_environ(port, mail.port)
        env["NOTIFICATIONS_CLAIM_TIMEOUT"] = str(CLAIM_TIMEOUT)
        # Gunicorn's grace on SIGTERM is honcho's (5 s), not 20 s, so that
        # one long send outlives the grace with either background.
        env["GUNICORN_CMD_ARGS"] += f" --graceful-timeout {HONCHO_KILL_WAIT}"
        prefix = f"prod-{uuid.uuid4().hex[:12]}:"
        if background == "celery":
            # A killed worker's task comes back after 5 s, not an hour.
            env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps(
                {"global_keyprefix": prefix, "visibility_timeout": 5}
            )
        if background != "celery":
            env["NOTIFICATIONS_SWEEP_GRACE"] = str(SWEEP_GRACE)
        if background == "django-tasks":
            env["NOTIFICATIONS_SWEEP_INTERVAL"] = str(SWEEP_INTERVAL)
        stack = Stack(project, env, tmp_path)
        stack.mail = mail
        with stack.built_and_released(prefix):
            yield stack


def test_procfile_stack_signs_up_over_https_stops_on_sigterm_and_loses_nothing(stack):
    mail = stack.mail
    background = stack.project.background
    # Which process sends the emails: a worker, or gunicorn after the response.
    worker = background != "none"
    stack.start()
    browser = harness.Browser(stack.port)

    # Static files: collected at build time, served by WhiteNoise.
    response, _ = browser.request("GET", "/static/css/site.css")
    assert response.status == 200

    # A signup through the form, behind the "proxy": welcomed by email.
    response, page = browser.sign_up("alice")
    assert response.status == 302, page
    assert response.getheader("X-Request-ID")
    assert mail.wait_for(lambda m: m.count()["alice@example.com"] == 1, WAIT)

    # The mail server refuses once: the failure is logged and retried.
    mail.refuse_next("bob@example.com")
    response, page = harness.Browser(stack.port).sign_up("bob")
    assert response.status == 302, page
    if worker:  # Celery's task retries by itself; db_worker's sweep queues it again
        assert mail.wait_for(lambda m: m.count()["bob@example.com"] == 1, WAIT)
        assert stack.rows()["bob"]["attempts"] == 2
    else:  # the cron job's command, once the send after the response failed
        deadline = time.monotonic() + WAIT
        while not stack.rows()["bob"]["error"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stack.rows()["bob"]["error"].startswith("SMTPRecipientsRefused")
        # Not before its wait after one attempt, 2 x NOTIFICATIONS_SWEEP_GRACE.
        time.sleep(2 * SWEEP_GRACE)
        assert stack.py("manage.py", "send_unsent").stdout.strip() == "1 sent, 0 failed"

    # SIGTERM to the process that is sending (gunicorn, the Celery worker's
    # main process, or db_worker), in the middle of a send that takes 2 s: it
    # finishes the send, then exits; honcho then stops the others.
    mail.slow_next("carol@example.com", 2)
    signup, result = in_thread(harness.Browser(stack.port).sign_up, "carol")
    assert mail.wait_for(lambda m: m.has_seen("carol@example.com"), WAIT)
    stack.stop("worker" if worker else "web")
    signup.join(WAIT)
    assert result[0][0].status == 302  # the request too, with background=none
    assert mail.count()["carol@example.com"] == 1
    assert stack.rows()["carol"]["sent"]

    # SIGTERM to every process (honcho signals each process group, as Heroku
    # signals every process of a dyno) in the middle of a send longer than
    # the grace: the send dies (a Celery pool process at once, gunicorn's
    # worker after its graceful timeout, db_worker by honcho's SIGKILL, which
    # leaves its task RUNNING until the sweep marks it FAILED an hour later,
    # NOTIFICATIONS_STUCK_TASK_TIMEOUT), and the outbox hands it to the next
    # delivery.
    stack.start()
    mail.slow_next("dave@example.com", HONCHO_KILL_WAIT + 10)
    signup, result = in_thread(harness.Browser(stack.port).sign_up, "dave")
    assert mail.wait_for(lambda m: m.has_seen("dave@example.com"), WAIT)
    stack.stop()
    signup.join(WAIT)
    dave = stack.rows()["dave"]
    assert (dave["sent"], dave["claimed"]) == (False, True)
    assert mail.count()["dave@example.com"] == 0
    if not worker:
        # The cron job's command leaves the dead delivery's claim alone
        # while it lasts: it cannot tell a dead delivery from a slow one.
        assert stack.py("manage.py", "send_unsent").stdout.strip() == "0 sent, 0 failed"

    stack.start()
    if background == "celery":
        # The task came back to Redis (reject_on_worker_lost); it waits for
        # the dead delivery's claim to expire, then sends.
        assert mail.wait_for(lambda m: m.count()["dave@example.com"] == 1, WAIT)
        # The row is marked sent just after the server takes the message:
        # stopping in between is the one window no outbox closes.
        assert harness.poll(lambda: stack.rows()["dave"]["sent"], step=1), stack.rows()
    elif background == "django-tasks":
        # The killed task is not run again; once the dead delivery's claim has
        # expired, the sweep queues the notification again and a new task sends it.
        assert mail.wait_for(lambda m: m.count()["dave@example.com"] == 1, WAIT)
        assert stack.rows()["dave"]["attempts"] == 2
    else:
        # Once the claim has expired (and its wait, 2 x SWEEP_GRACE, is
        # over), the cron job's command takes it over.
        time.sleep(CLAIM_TIMEOUT)
        assert stack.py("manage.py", "send_unsent").stdout.strip() == "1 sent, 0 failed"
    stack.stop()

    # Nothing lost, nothing sent twice.
    users = ["alice", "bob", "carol", "dave"]
    rows = stack.rows()
    assert sorted(rows) == users
    assert all(row["sent"] for row in rows.values()), rows
    assert mail.count() == Counter({f"{user}@example.com": 1 for user in users})

    # Every line every process logged is one JSON object, with request and
    # task ids where there is one.
    records = []
    for name, line in stack.lines():
        if name == "system" or (name == "worker" and line in CELERY_PLAIN):
            continue
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= record.keys(), line
        records.append((name, record))
    by_logger = Counter(record["logger"] for _, record in records)
    assert by_logger["gunicorn.access"] > 0
    slow = [r for _, r in records if "Slow signal receiver" in r["message"]]
    assert slow and all(r.get("request_id") for r in slow)
    failed = [r for _, r in records if "failed to send" in r["message"]]
    if worker:
        assert failed and all(r.get("task_id") for r in failed)
        assert "SMTPRecipientsRefused" in failed[0]["exc_info"]
    else:
        # Sent after the signup's response, still in its request: logged with its id.
        assert failed and failed[0].get("request_id")
        assert "SMTPRecipientsRefused" in failed[0]["exc_info"]
