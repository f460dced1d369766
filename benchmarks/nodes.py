"""Signups per second and p95 latency through nginx: one node against two, each runner.

For each background runner (celery, django-tasks) renders a PostgreSQL
project and, in one run, measures it behind the project's deploy/nginx.conf
(Debian's nginx, `sh scripts/install-nginx`) with one node and then with
two, a node being a gunicorn with production settings (2 workers,
config/gunicorn.py) and a worker, started as tests/test_two_nodes.py starts
them (tests/support/nodes.py); one beat or one sweep chain in all. locust,
headless, signs up --signups users through nginx (the real form,
benchmarks/signup_locustfile.py), then the script waits for every welcome
email at a real SMTP server (aiosmtpd) and checks none was lost or sent
twice. Passwords are hashed with MD5 on otherwise production settings
(tests/support/fast_hash_production_settings.py), as in the test: with
Argon2 the hash is most of the signup (benchmarks/hashers.py measures
that). It also reads the CPU time each kind of process used, per signup, to
say which one runs out first. It prints a table and draws docs/nodes.png.

    .venv/bin/pip install --group bench
    .venv/bin/python benchmarks/nodes.py [--signups 600] [--users 8]

Needs PostgreSQL (DATABASE_URL, default postgres://postgres@127.0.0.1:5432),
Redis (CELERY_BROKER_URL), nginx and openssl, and the shared virtualenv
that `make test` builds in build/ (--python to choose another). Exits
non-zero if anything was lost or sent twice.
"""

import argparse
import contextlib
import csv
import json
import os
import resource
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import Project, venv_environ  # noqa: E402
from support import harness, nodes  # noqa: E402
from support.mail_sink import MailSink  # noqa: E402
from support.worker_site import CelerySite, TasksSite  # noqa: E402

PLOT = harness.TEMPLATE / "docs" / "nodes.png"
WAIT = 300  # seconds: the bound on every wait
SITES = {"celery": CelerySite, "django-tasks": TasksSite}

# Prints the users and how many welcome notifications are sent.
COUNTS = """
import json, django
django.setup()
from django.apps import apps
from django.contrib.auth import get_user_model
Notification = apps.get_model("notifications", "Notification")
print(json.dumps({
    "users": get_user_model().objects.count(),
    "sent": Notification.objects.exclude(sent_at=None).count(),
}))
"""


def measure(project, background, count, args, tmp):
    """`count` nodes behind nginx: signups/s, p95, CPU per signup of each process kind."""
    with MailSink() as mail:
        site = SITES[background](project, tmp)
        site.env.update(nodes.production_env(mail.port))
        if background == "celery":
            site.transport(global_keyprefix=site.prefix)
        project.py("manage.py", "flush", "--no-input", env=site.env)
        started = [nodes.Node(site, name) for name in "ab"[:count]]
        # One node: both upstream lines of the shipped file name it.
        addresses = [node.address for node in started] * (2 // count)
        nginx = nodes.Nginx(project.path, addresses)
        try:
            for node in started:
                node.start()
            if background == "celery":
                site.beat()
            nginx.start()
            time.sleep(2)  # the web workers load the app
            groups = {nginx.process.pid: "nginx"}
            for node in started:
                groups[node.processes[0].pid] = "gunicorn"
                groups[node.processes[1].pid] = "worker"
            results = tmp / f"signups-{background}-{count}.txt"
            cpu_before = harness.group_cpu_seconds(groups)
            machine_before = machine_cpu_seconds()
            # locust's CPU: that of the children this process has waited for.
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.monotonic()
            load = nodes.locust(
                nginx.url, args.users, args.signups, results, nginx.cafile,
                tmp / f"locust-{background}-{count}.log",
                csv_prefix=tmp / f"locust-{background}-{count}",
            )  # fmt: skip
            if not nodes.ended(load, WAIT * 4):
                harness.stop(load)
                sys.exit(f"locust did not finish:\n{harness.output(load)[-3000:]}")
            elapsed = time.monotonic() - start
            cpu = harness.group_cpu_seconds(groups)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu["locust"] = after.ru_utime + after.ru_stime
            cpu_before["locust"] = children.ru_utime + children.ru_stime
            machine = machine_cpu_seconds() - machine_before
            tried = nodes.results(results)
            signed_up = sum(status == "302" for status in tried.values())
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline:
                counts = json.loads(site.python(COUNTS).stdout)
                if (
                    counts["sent"] >= counts["users"]
                    and mail.total() >= counts["users"]
                ):
                    break
                time.sleep(0.5)
            emails = mail.count()
        finally:
            nginx.stop()
            site.close()
    with open(tmp / f"locust-{background}-{count}_stats.csv") as stats:
        post = {row["Name"]: row for row in csv.DictReader(stats)}["signup POST"]
    problems = []
    if counts["users"] < signed_up:
        problems.append(f"{signed_up} signups answered 302, {counts['users']} users")
    if counts["sent"] != counts["users"] or mail.total() != counts["users"]:
        problems.append(f"{counts}, {mail.total()} emails")
    if any(n != 1 for n in emails.values()):
        problems.append(f"{sum(n > 1 for n in emails.values())} addresses got 2+")
    return {
        "background": background,
        "nodes": count,
        "signups": signed_up,
        "errors": len(tried) - signed_up,
        "seconds": elapsed,
        "signups_per_second": signed_up / elapsed,
        "median_ms": float(post["Median Response Time"]),
        "p95_ms": float(post["95%"]),
        # CPU per signup, by kind of process.
        "cpu_ms": {
            kind: 1000 * (cpu.get(kind, 0.0) - cpu_before.get(kind, 0.0)) / signed_up
            for kind in ("gunicorn", "worker", "nginx", "locust")
        },
        # Everything the machine ran meanwhile (the above, PostgreSQL, Redis
        # and other jobs), per signup, and how busy its cores were.
        "machine_cpu_ms": 1000 * machine / signed_up,
        "machine_busy": machine / (elapsed * os.cpu_count()),
        "problems": problems,
    }


def machine_cpu_seconds():
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]
    return busy / os.sysconf("SC_CLK_TCK")


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backgrounds = list(SITES)
    figure, (rate, latency, cpu) = plt.subplots(1, 3, figsize=(11, 4), dpi=100)
    width = 0.38
    for offset, count in ((-width / 2, 1), (width / 2, 2)):
        rows = [
            next(r for r in results if r["background"] == bg and r["nodes"] == count)
            for bg in backgrounds
        ]
        positions = [p + offset for p in range(len(backgrounds))]
        label = f"{count} node{'s' * (count > 1)}"
        for axes, key, fmt in ((rate, "signups_per_second", "{:.1f}"),
                               (latency, "p95_ms", "{:.0f}")):  # fmt: skip
            values = [r[key] for r in rows]
            axes.bar(positions, values, width, label=label)
            for p, v in zip(positions, values, strict=True):
                axes.annotate(fmt.format(v), (p, v), ha="center", va="bottom")
    # Where the CPU went, per signup: this project's processes, locust, and
    # the rest of the machine (PostgreSQL, Redis, other jobs). Cores busy x
    # time / signups: the whole bar is what bounds the rate.
    kinds = ["gunicorn", "worker", "nginx", "locust"]
    labels, stacks = [], {kind: [] for kind in [*kinds, "rest of the machine"]}
    for r in results:
        labels.append(f"{r['background']}\n{r['nodes']} node{'s' * (r['nodes'] > 1)}")
        for kind in kinds:
            stacks[kind].append(r["cpu_ms"].get(kind, 0.0))
        stacks["rest of the machine"].append(
            r["machine_cpu_ms"] - sum(r["cpu_ms"].get(kind, 0.0) for kind in kinds)
        )
    bottom = [0.0] * len(results)
    for kind, values in stacks.items():
        cpu.bar(range(len(results)), values, 0.6, bottom=bottom, label=kind)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    for p, (total, r) in enumerate(zip(bottom, results, strict=True)):
        busy = f"{100 * r['machine_busy']:.0f}% busy"
        cpu.annotate(busy, (p, total), ha="center", va="bottom", fontsize=8)
    cpu.set_xticks(range(len(results)), labels, fontsize=7)
    cpu.set_title("CPU per signup, ms (cores busy)", fontsize=10)
    cpu.legend(fontsize=7, loc="upper left", ncol=2)
    cpu.set_ylim(0, max(bottom) * 1.6)
    for axes, title in ((rate, "signups per second"), (latency, "p95 of the POST, ms")):
        axes.set_xticks(range(len(backgrounds)), backgrounds)
        axes.set_title(title, fontsize=10)
        axes.margins(y=0.2)
    rate.legend(fontsize=8)
    figure.suptitle(
        f"Signups through nginx, PostgreSQL, MD5 hasher, {os.cpu_count()} cores "
        "shared by the nodes, the load and other jobs",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path)
    print(f"\nPlot written to {path}")


def report(results, args):
    print(
        f"\n{args.signups} signups per row through nginx, {args.users} locust users, "
        f"PostgreSQL, {os.cpu_count()} cores, {date.today()}\n"
    )
    print(
        "| runner | nodes | signups/s | vs 1 node | median | p95 | errors "
        "| CPU/signup: gunicorn | worker | nginx | locust | whole machine | cores busy "
        "| lost or twice |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
          "| ---: | ---: | --- |")  # fmt: skip
    for r in results:
        one = next(
            o for o in results if o["background"] == r["background"] and o["nodes"] == 1
        )
        cpu = r["cpu_ms"]
        print(
            f"| {r['background']} | {r['nodes']} | {r['signups_per_second']:.1f} "
            f"| {r['signups_per_second'] / one['signups_per_second']:.2f} "
            f"| {r['median_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {r['errors']} "
            f"| {cpu['gunicorn']:.0f} ms | {cpu['worker']:.0f} ms "
            f"| {cpu['nginx']:.1f} ms | {cpu['locust']:.0f} ms "
            f"| {r['machine_cpu_ms']:.0f} ms "
            f"| {100 * r['machine_busy']:.0f}% | {'; '.join(r['problems']) or 'none'} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signups", type=int, default=600, help="per row")
    parser.add_argument("--users", type=int, default=8, help="locust users")
    parser.add_argument("--python", default=None)
    parser.add_argument("--plot", type=Path, default=PLOT)
    args = parser.parse_args()
    if nodes.nginx_binary() is None:
        sys.exit("nginx is not installed: sh scripts/install-nginx")
    python = Path(args.python or harness.project_python())
    venv = python.parent.parent
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="nodes-") as tmp,
        contextlib.ExitStack() as cleanup,
    ):
        tmp = Path(tmp)
        config = harness.cookiecutter_config(tmp / "cookiecutter")
        for background in SITES:
            path = harness.render(
                tmp / background, config, database="postgresql", background=background
            )
            url = harness.database_url(f"bench_nodes_{uuid.uuid4().hex[:8]}")
            cleanup.enter_context(harness.fresh_database(str(python), url))
            env = venv_environ(venv) | {
                "DATABASE_URL": url,
                "CELERY_BROKER_URL": harness.broker_url(),
            }
            project = Project(path, venv, "postgresql", background, env=env)
            production = nodes.production_env(0)
            for command in ("migrate", "collectstatic"):
                project.py("manage.py", command, "--no-input", env=production)
            for count in (1, 2):
                result = measure(project, background, count, args, tmp)
                results.append(result)
                print(json.dumps(result), flush=True)
    report(results, args)
    plot(results, args.plot)
    if any(r["problems"] for r in results):
        sys.exit("lost or duplicated work: " + "; ".join(
            p for r in results for p in r["problems"]))  # fmt: skip


if __name__ == "__main__":
    main()
