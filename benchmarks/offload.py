"""What a signup still pays for its welcome email: sent inline, or handed to a worker.

Renders the template three times (background=none, django-tasks and celery),
gives the welcome email a simulated slow send (tests/support/slow_email.py,
chosen with DJANGO_EMAIL_BACKEND), and times N signups in each project: a
`create_user` in its own transaction, through commit and the on-commit
callbacks, as a view does. Four variants:

- inline: without a worker, the email goes out after commit, in the request;
- django-tasks: the on-commit callback only queues the task (an INSERT in
  django-tasks-db's table, in the same database);
- celery: the on-commit callback only queues the task on Redis;
- floor: the welcome receiver disconnected, the cost of the signup alone.

The share of the email's cost the signup still pays with a runner is
(runner - floor) / (inline - floor), on medians; the target is <= 0.02.
Then, end to end, for each runner in turn: the time for 1,000 signups until
every welcome is sent by one worker process (`manage.py db_worker`, or
`celery worker -c 1`; --concurrency for more).

    .venv/bin/python benchmarks/offload.py [--signups 200] [--throughput 1000]

Needs Redis (CELERY_BROKER_URL, default redis://127.0.0.1:6379/0), and a
Python with the projects' dependencies (--python; default: the shared
virtualenv `make test` builds in build/). Passwords are left out: hashing
one costs the same in every variant and would only add noise.
"""

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import harness  # noqa: E402

TARGET = 0.02

# Runs in a rendered project: times `count` signups, prints their latencies.
SIGNUPS = """
import json, sys, time, django
django.setup()
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save

variant, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
User = get_user_model()
if variant == "floor":
    post_save.disconnect(sender=User, dispatch_uid="notifications.queue_welcome")

def signup(name):
    start = time.perf_counter()
    with transaction.atomic():
        User.objects.create_user(name, f"{name}@example.com")
    return time.perf_counter() - start

for n in range(10):  # warm up: connections, caches, the broker's
    signup(f"{prefix}warmup{n}")
print(json.dumps([signup(f"{prefix}{n}") for n in range(count)]))
"""

# Runs in a rendered project: signs up `count` users, waits until every
# welcome is sent, prints the two durations.
THROUGHPUT = """
import json, sys, time, django
django.setup()
from django.contrib.auth import get_user_model
from django.apps import apps

prefix, count = sys.argv[1], int(sys.argv[2])
User = get_user_model()
Notification = apps.get_model("notifications", "Notification")
start = time.perf_counter()
for n in range(count):
    User.objects.create_user(f"{prefix}{n}", f"{prefix}{n}@example.com")
signed_up = time.perf_counter() - start
rows = Notification.objects.filter(user__username__startswith=prefix)
while rows.filter(sent_at=None).exists() or rows.count() < count:
    time.sleep(0.1)
print(json.dumps({"signups": signed_up, "all_sent": time.perf_counter() - start}))
"""


class Project:
    def __init__(self, path, python, env):
        self.path, self.python, self.env = path, python, env

    def run(self, *args):
        return harness.run([self.python, *args], self.path, self.env).stdout

    def signups(self, variant, count):
        prefix = f"{variant}{uuid.uuid4().hex[:6]}_"
        return json.loads(self.run("-c", SIGNUPS, variant, prefix, count))


def environment(mail, delay, broker_url, key_prefix, database_url):
    env = harness.clean_environ() | {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "False",
        "DJANGO_EMAIL_BACKEND": "slow_email.SlowEmailBackend",
        "DJANGO_EMAIL_OPTIONS": json.dumps({"file_path": str(mail), "delay": delay}),
        "PYTHONPATH": str(harness.SUPPORT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps({"global_keyprefix": key_prefix}),
        # The sweep would queue again what waits longer than this: it measures
        # delivery alone.
        "NOTIFICATIONS_SWEEP_GRACE": "3600",
    }
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def milliseconds(latencies):
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signups", type=int, default=200)
    parser.add_argument("--throughput", type=int, default=1000, help="0 to skip")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per email")
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql"], default="sqlite"
    )
    parser.add_argument("--python", help="default: the shared project virtualenv")
    parser.add_argument(
        "--concurrency", type=int, default=1, help="worker processes, for each runner"
    )
    args = parser.parse_args()
    python = args.python or harness.project_python()
    broker_url = harness.broker_url()
    key_prefix = f"bench-{uuid.uuid4().hex[:8]}:"

    with (
        tempfile.TemporaryDirectory(prefix="offload-") as tmp,
        contextlib.ExitStack() as cleanup,
    ):
        tmp = Path(tmp)
        config = harness.cookiecutter_config(tmp / "cookiecutter")
        cleanup.callback(harness.redis_keys, python, broker_url, key_prefix, "delete")
        projects = {}
        for background in ("none", "django-tasks", "celery"):
            database_url = None
            if args.database == "postgresql":
                name = f"bench_offload_{background.replace('-', '_')}"
                database_url = cleanup.enter_context(
                    harness.fresh_database(python, harness.database_url(name))
                )
            mail = tmp / f"mail-{background}"
            env = environment(mail, args.delay, broker_url, key_prefix, database_url)
            path = harness.render(
                tmp / background, config, background=background, database=args.database
            )
            project = Project(path, python, env)
            project.run("manage.py", "migrate", "--no-input")
            projects[background] = project

        inline, tasks, celery = (
            projects[b] for b in ("none", "django-tasks", "celery")
        )
        results = {}
        throughput = {}
        results[INLINE] = inline.signups("inline", args.signups)
        results[RUNNERS["django-tasks"]] = tasks.signups("tasks", args.signups)
        results[RUNNERS["celery"]] = celery.signups("celery", args.signups)
        results[FLOOR] = inline.signups("floor", args.signups)
        if args.throughput:
            for background, project in (("django-tasks", tasks), ("celery", celery)):
                throughput[background] = run_throughput(
                    project, background, args.throughput, args.concurrency
                )

    report(results, args, throughput)


INLINE = "inline (no worker)"
FLOOR = "receiver disconnected (floor)"
RUNNERS = {
    "django-tasks": "django-tasks (enqueue only)",
    "celery": "Celery (enqueue only)",
}


def worker_commands(project, background, concurrency):
    """The worker processes to start, and what each logs once it is ready."""
    if background == "celery":
        command = [project.python, "-m", "celery", "-A", "config", "worker",
                   "-c", str(concurrency), "--without-gossip", "--without-mingle",
                   "--without-heartbeat", "--loglevel=info"]  # fmt: skip
        return [command], " ready."
    # db_worker runs one task at a time: one process per unit of concurrency.
    command = [project.python, "manage.py", "db_worker", "--no-reload",
               "--no-startup-delay", "--interval=0.1"]  # fmt: skip
    return [command] * concurrency, "Starting worker"


def run_throughput(project, background, count, concurrency):
    """Sign up `count` users with the workers running; time until all are sent."""
    commands, ready = worker_commands(project, background, concurrency)
    with contextlib.ExitStack() as workers:
        for n, command in enumerate(commands):
            log = project.path / f"worker-{n}.log"
            worker = harness.start(command, log, project.path, project.env)
            workers.callback(harness.stop, worker, timeout=30)
            harness.wait_for_output(worker, ready, "the worker did not start")
        prefix = f"tp{uuid.uuid4().hex[:6]}_"
        durations = json.loads(project.run("-c", THROUGHPUT, prefix, count))
        return durations | {"count": count, "concurrency": concurrency}


def report(results, args, throughput):
    rows = {name: milliseconds(latencies) for name, latencies in results.items()}
    inline, floor = rows[INLINE], rows[FLOOR]
    print(
        f"\n{args.signups} signups per variant, {args.database}, "
        f"simulated send {args.delay * 1000:.0f} ms\n"
    )
    print("| signup latency | median | p95 |")
    print("| --- | ---: | ---: |")
    for name, (median, p95) in rows.items():
        print(f"| {name} | {median:.2f} ms | {p95:.2f} ms |")
    shares = {}
    print()
    for background, name in RUNNERS.items():
        runner = rows[name]
        shares[background] = (runner[0] - floor[0]) / (inline[0] - floor[0])
        share_p95 = (runner[1] - floor[1]) / (inline[1] - floor[1])
        print(
            f"Share of the email's cost the signup still pays with {background}: "
            f"{shares[background]:.4f} on medians, {share_p95:.4f} on p95 "
            f"(target <= {TARGET})"
        )
    for background, result in throughput.items():
        sending = result["count"] * args.delay / result["concurrency"]
        print(
            f"\nThroughput, {background}: {result['count']} signups took "
            f"{result['signups']:.1f} s; every welcome was sent after "
            f"{result['all_sent']:.1f} s ({result['concurrency']} worker "
            f"process(es); the floor is {sending:.0f} s of sending, so "
            f"{(result['all_sent'] - sending) / result['count'] * 1000:.0f} ms "
            "of overhead per email)"
        )
    above = {name: share for name, share in shares.items() if share > TARGET}
    if above:
        sys.exit(f"share above the target {TARGET}: {above}")


if __name__ == "__main__":
    main()
