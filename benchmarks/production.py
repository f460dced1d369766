"""Signups per second through gunicorn with 1, 2 and 4 web workers, and the emails.

Renders a PostgreSQL project (background=celery by default), builds and
releases it (collectstatic, migrate), and for each number of web workers
starts the Procfile's processes under honcho with production settings
(WEB_CONCURRENCY=n), a real SMTP server receiving the mail (aiosmtpd,
tests/support/mail_sink.py), and locust, headless, driving the signup form
(benchmarks/signup_locustfile.py) for a fixed time. Then it waits for every
welcome email and checks that nothing was lost or sent twice: one user row
per successful signup, one sent notification per user, one email per
address. It also reads the CPU time the web processes used per signup
(mostly the password hash: Argon2), which does not depend on
what else the machine runs: cores / that is the ceiling no number of web
workers passes on this machine. It prints a table, and draws
docs/production.png.

    .venv/bin/pip install --group bench
    .venv/bin/python benchmarks/production.py [--duration 60] [--users 8]

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432),
Redis for Celery (CELERY_BROKER_URL), and the shared virtualenv that
`make test` builds in build/ (--python to choose another). Exits non-zero
if anything was lost or sent twice.
"""

import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import harness  # noqa: E402
from support.mail_sink import MailSink  # noqa: E402

LOCUSTFILE = Path(__file__).resolve().parent / "signup_locustfile.py"
PLOT = harness.TEMPLATE / "docs" / "production.png"
WAIT = 120  # seconds: the bound on every wait

# Prints the users, the notifications and how many are sent.
COUNTS = """
import json, django
django.setup()
from django.apps import apps
from django.contrib.auth import get_user_model
Notification = apps.get_model("notifications", "Notification")
print(json.dumps({
    "users": get_user_model().objects.count(),
    "notifications": Notification.objects.count(),
    "sent": Notification.objects.exclude(sent_at=None).count(),
}))
"""

# Prints the seconds one password hash takes (the signup's main cost).
HASH_TIME = """
import time, django
django.setup()
from django.contrib.auth.hashers import make_password
make_password("warm-up")
start = time.perf_counter()
for _ in range(3):
    make_password("correct horse battery staple")
print((time.perf_counter() - start) / 3)
"""


class Site:
    """The rendered project, its environment, and the honcho running it."""

    def __init__(self, path, python, env):
        self.path, self.python, self.env = path, Path(python), env
        self.names = [
            line.split(":")[0]
            for line in (path / "Procfile").read_text().splitlines()
            if line.strip() and not line.startswith("release:")
        ]
        self.honcho = None

    def run(self, *args):
        return harness.run([self.python, *args], self.path, self.env).stdout

    def start(self, workers, log):
        self.log = log
        env = {**self.env, "WEB_CONCURRENCY": str(workers)}
        command = [self.python, "-m", "honcho", "start", *self.names]
        self.honcho = harness.start(command, log, self.path, env)
        ready = {"Booting worker": workers}
        if "worker" in self.names:
            ready["ready."] = 1
        harness.wait_for(
            lambda: all(log.read_text().count(k) >= n for k, n in ready.items()),
            "the stack did not start",
            [self.honcho],
            timeout=WAIT,
            step=0.2,
        )
        time.sleep(2)  # the web workers load the app

    def cpu_seconds(self):
        """CPU time used so far by each Procfile process with its children: {name: s}.

        Honcho runs each process in its own process group; this sums user and
        system time over every live process of each group. Unlike rates, it
        does not depend on what else the machine is running.
        """
        groups = {}
        for name in self.names:
            found = re.search(rf"{name}\.1 started \(pid=(\d+)\)", self.log.read_text())
            groups[int(found[1])] = name
        return Counter(harness.group_cpu_seconds(groups))

    def stop(self):
        """SIGTERM to honcho, which passes it on to each process's group."""
        harness.stop(self.honcho, timeout=60)

    def counts(self):
        return json.loads(self.run("-c", COUNTS))


def locust(port, users, duration, csv_prefix, python):
    """Run locust headless against the site; return its stats row for the POST."""
    locust_bin = Path(sys.executable).parent / "locust"
    subprocess.run(
        [locust_bin, "-f", LOCUSTFILE, "--headless", "--only-summary",
         "--users", str(users), "--spawn-rate", str(users),
         "--run-time", f"{duration}s", "--stop-timeout", "30",
         "--host", f"http://127.0.0.1:{port}", "--csv", csv_prefix],
        check=False, capture_output=True,
    )  # fmt: skip
    import csv

    with open(f"{csv_prefix}_stats.csv") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    return rows["signup POST"]


def measure(site, mail, workers, args, tmp):
    """One run with `workers` web workers: (signups/s, emails/s, details)."""
    site.run("manage.py", "flush", "--no-input")
    before = mail.total()
    site.start(workers, tmp / f"honcho-{workers}.log")
    try:
        cpu_before = site.cpu_seconds()
        start = time.monotonic()
        post = locust(site.port, args.users, args.duration, tmp / f"locust-{workers}",
                      site.python)  # fmt: skip
        load_time = time.monotonic() - start
        answered = int(post["Request Count"]) - int(post["Failure Count"])
        # Every welcome out: as many emails as users, all rows sent.
        deadline = time.monotonic() + WAIT
        while True:
            counts = site.counts()
            done = counts["sent"] >= counts["users"] >= answered
            if done and mail.total() - before >= counts["users"]:
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        cpu = site.cpu_seconds()
        cpu.subtract(cpu_before)
    finally:
        site.stop()
    with mail.recorder.lock:
        times = mail.recorder.received_at[before:]
        recipients = Counter(r for rcpts, _ in mail.recorder.messages[before:]
                             for r in rcpts)  # fmt: skip
    emails = len(times)
    # The users in the database are the signups: a request cut off when the
    # load stops can commit without locust seeing its 302.
    signups = counts["users"]
    problems = []
    if signups < answered:
        problems.append(f"{answered} signups answered 302, {signups} users")
    if counts["sent"] != counts["users"] or counts["notifications"] != counts["users"]:
        problems.append(f"{counts} notifications for {counts['users']} users")
    if emails != counts["users"] or any(n != 1 for n in recipients.values()):
        twice = sum(1 for n in recipients.values() if n > 1)
        problems.append(f"{emails} emails for {counts['users']} users, {twice} twice")
    return {
        "workers": workers,
        "signups": signups,
        "answered_302": answered,
        "failures": int(post["Failure Count"]),
        "load_seconds": load_time,
        # Over the whole run of locust: start, load, and the last requests.
        "signups_per_second": signups / load_time,
        "median_ms": float(post["Median Response Time"]),
        "p95_ms": float(post["95%"]),
        "emails": emails,
        # From the start of the load to the last email received.
        "emails_per_second": emails / (times[-1] - start) if times else 0.0,
        # CPU per signup of the web processes (gunicorn), and per email of the
        # worker (Celery; with background=none the web sends, inside that).
        "web_cpu_ms": 1000 * cpu["web"] / max(signups, 1),
        "worker_cpu_ms": 1000 * cpu.get("worker", 0) / max(emails, 1),
        "problems": problems,
    }


def plot(results, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workers = [r["workers"] for r in results]
    positions = range(len(workers))
    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    width = 0.38
    signups = [r["signups_per_second"] for r in results]
    emails = [r["emails_per_second"] for r in results]
    axes.bar([p - width / 2 for p in positions], signups, width, label="signups/s")
    axes.bar([p + width / 2 for p in positions], emails, width, label="emails/s")
    ceiling = [r["cpu_ceiling"] for r in results]
    axes.plot(list(positions), ceiling, "k--", marker="_", markersize=20,
              label="ceiling: all cores on signups (web CPU per signup)")  # fmt: skip
    for p, s, e in zip(positions, signups, emails, strict=True):
        axes.annotate(f"{s:.1f}", (p - width / 2, s), ha="center", va="bottom")
        axes.annotate(f"{e:.1f}", (p + width / 2, e), ha="center", va="bottom")
    axes.set_xticks(
        list(positions), [f"{w} web worker{'s' * (w > 1)}" for w in workers]
    )
    axes.set_ylabel("per second")
    axes.set_title(
        f"Signups through gunicorn, background={args.background}, PostgreSQL, "
        f"{os.cpu_count()} cores",
        fontsize=10,
    )
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8)
    axes.set_ylim(0, max(signups + emails + ceiling) * 1.3)
    figure.tight_layout()
    figure.savefig(args.plot)
    print(f"\nPlot written to {args.plot}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--users", type=int, default=8, help="locust users")
    parser.add_argument("--background", choices=["none", "celery"], default="celery")
    parser.add_argument("--python", default=None)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    python = args.python or harness.project_python()
    database_url = harness.database_url(f"bench_production_{uuid.uuid4().hex[:8]}")
    broker_url = harness.broker_url()
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"

    with (
        tempfile.TemporaryDirectory(prefix="production-") as tmp,
        MailSink() as mail,
        contextlib.ExitStack() as cleanup,
    ):
        tmp = Path(tmp)
        config = harness.cookiecutter_config(tmp / "cookiecutter")
        path = harness.render(
            tmp, config, database="postgresql", background=args.background
        )
        port = harness.free_port()
        env = harness.clean_environ() | harness.production_environ()
        env |= {
            "PATH": f"{Path(python).parent}{os.pathsep}{env.get('PATH', '')}",
            "DATABASE_URL": database_url,
            "DJANGO_EMAIL_OPTIONS": json.dumps(
                {"host": "127.0.0.1", "port": mail.port}
            ),
            "PORT": str(port),
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port}",
            # Every locust user signs up from the loopback: no limit.
            "SIGNUP_ATTEMPTS_PER_ADDRESS": str(10**9),
            "CELERY_BROKER_URL": broker_url,
            "CELERY_BROKER_TRANSPORT_OPTIONS": json.dumps({"global_keyprefix": prefix}),
            "PYTHONWARNINGS": "ignore::UserWarning:celery.platforms",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        site = Site(path, python, env)
        site.port = port
        cleanup.enter_context(harness.fresh_database(python, database_url))
        if args.background == "celery":
            cleanup.callback(harness.redis_keys, python, broker_url, prefix, "delete")
        results = []
        site.run("manage.py", "collectstatic", "--no-input")
        site.run("-m", "honcho", "start", "release")
        for workers in args.workers:
            result = measure(site, mail, workers, args, tmp)
            # How slow the machine is now: one password hash, wall time.
            result["hash_seconds"] = float(site.run("-c", HASH_TIME))
            # The ceiling: every core doing nothing but the web's signups.
            result["cpu_ceiling"] = os.cpu_count() * 1000 / result["web_cpu_ms"]
            results.append(result)
            print(json.dumps(result), flush=True)

    report(results, args)
    plot(results, args)
    if any(r["problems"] for r in results):
        sys.exit("lost or duplicated work: " + "; ".join(
            p for r in results for p in r["problems"]))  # fmt: skip


def report(results, args):
    base = results[0]["signups_per_second"] or 1
    print(
        f"\nbackground={args.background}, PostgreSQL, {args.users} locust users, "
        f"{args.duration} s of load per row, {os.cpu_count()} cores\n"
    )
    print(
        "| web workers | signups | signups/s | vs 1 worker | median | p95 "
        "| emails | emails/s | web CPU per signup | worker CPU per email "
        "| lost or twice |"
    )
    print(
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    for r in results:
        print(
            f"| {r['workers']} | {r['signups']} | {r['signups_per_second']:.2f} "
            f"| {r['signups_per_second'] / base:.2f} | {r['median_ms']:.0f} ms "
            f"| {r['p95_ms']:.0f} ms | {r['emails']} | {r['emails_per_second']:.2f} "
            f"| {r['web_cpu_ms']:.0f} ms | {r['worker_cpu_ms']:.0f} ms "
            f"| {'; '.join(r['problems']) or 'none'} |"
        )
    for r in results:
        print(
            f"\n{r['workers']} web workers: one password hash took "
            f"{r['hash_seconds'] * 1000:.0f} ms of wall time; "
            f"{os.cpu_count()} cores doing nothing but signups would make "
            f"{r['cpu_ceiling']:.2f}/s",
            end="",
        )
    print()


if __name__ == "__main__":
    main()
