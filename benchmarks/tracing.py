"""What tracing costs: signup latency and reading 20,000 users, tracing off and on.

Renders a PostgreSQL project (background=none by default), builds and
migrates it, and serves it with gunicorn (config/gunicorn.py, production
settings, one worker) twice at once, on the same database: one server
with no OTEL_* variable (tracing off), one with OTEL_EXPORTER_OTLP_ENDPOINT
pointed at an OTLP/HTTP receiver run by this script on the loopback
(tests/support/otlp_receiver.py), which decodes every export as a
collector would. The welcome emails go over SMTP to aiosmtpd
(tests/support/mail_sink.py). Then, round after round, alternating which
goes first, one client signs up --signups users on one server and then on
the other, as a browser behind a TLS proxy (GET the form, POST it); each
POST is timed, from sending it to the last byte of the response. The CPU
time each server's processes used per signup is read from /proc too (the
GET, the POST, the email sent after the response, and with tracing on the
export thread): unlike latency, other jobs on a shared machine do not move
it.

Then reading users: --users rows made with bulk_create(), and in
alternating rounds a process of the project with tracing off and one with
it on reads them all (`list(User.objects.all())`, inside a span when on,
as in a request), timing its CPU (all its threads: the export too).

It prints the median and p95 of each, and the ratios on/off. The issue's
target: on costs at most 10% on the signup request.

    .venv/bin/python benchmarks/tracing.py [--signups 40] [--rounds 5]
        [--users 20000] [--background none] [--python .../bin/python]

Needs PostgreSQL (DATABASE_URL's server, default postgres@127.0.0.1:5432),
Redis with --background celery, and a Python with the project's
dependencies (default: the newest shared virtualenv `make test` builds in
build/).
"""

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from offload import milliseconds  # noqa: E402
from support import harness  # noqa: E402
from support.mail_sink import MailSink  # noqa: E402
from support.otlp_receiver import OtlpReceiver  # noqa: E402

PASSWORD = "analytical-engine-1843"

# Runs in the project: the CPU seconds of each read of every user.
READ = """
import gc, json, sys, time, django
django.setup()
from contextlib import nullcontext
from django.contrib.auth import get_user_model
User = get_user_model()
users, reads = int(sys.argv[1]), int(sys.argv[2])
if "opentelemetry.trace" in sys.modules and sys.argv[3] == "on":
    from opentelemetry import trace
    span = lambda: trace.get_tracer("benchmark").start_as_current_span("read users")
else:
    span = nullcontext
def read():
    gc.collect()
    start = time.process_time()
    with span():
        assert len(list(User.objects.all())) == users
    return time.process_time() - start
read()  # warm up: the connection, the page cache
print(json.dumps([read() for _ in range(reads)]))
"""

MAKE_USERS = """
import sys, django
django.setup()
from django.contrib.auth import get_user_model
User = get_user_model()
User.objects.bulk_create(
    (User(username=f"reader{n}", email=f"reader{n}@example.com")
     for n in range(int(sys.argv[1]))),
    batch_size=1000,
)
"""


def timed_sign_up(browser, username):
    """GET the form, then POST it; return the seconds the POST took."""
    browser.cookies.clear()
    form = browser.signup_form(username, PASSWORD)
    start = time.perf_counter()
    response, page = browser.request("POST", "/accounts/signup/", form)
    seconds = time.perf_counter() - start
    assert response.status == 302, page
    return seconds


def cpu_seconds(pid):
    """CPU time (user + system) of a process and its children, e.g. gunicorn's workers."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for process in [pid, *map(int, children)]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signups", type=int, default=40, help="per server and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument(
        "--background", choices=["none", "django-tasks", "celery"], default="none"
    )
    parser.add_argument("--python", help="default: the shared project virtualenv")
    args = parser.parse_args()
    python = args.python or harness.project_python()

    with (
        tempfile.TemporaryDirectory(prefix="tracing-") as tmp,
        contextlib.ExitStack() as cleanup,
        MailSink() as mail,
        OtlpReceiver() as receiver,
    ):
        tmp = Path(tmp)
        config = harness.cookiecutter_config(tmp / "cookiecutter")
        path = harness.render(
            tmp, config, database="postgresql", background=args.background
        )
        url = harness.database_url("bench_tracing")
        env = harness.clean_environ() | harness.production_environ()
        env |= {
            "DJANGO_EMAIL_OPTIONS": json.dumps(
                {"host": "127.0.0.1", "port": mail.port}
            ),
            "DATABASE_URL": cleanup.enter_context(harness.fresh_database(python, url)),
            "PYTHONDONTWRITEBYTECODE": "1",
            # One client signs up hundreds of users from one address: no
            # per-address limit (users/services.py) in the way.
            "SIGNUP_ATTEMPTS_PER_ADDRESS": str(10**9),
        }
        if args.background == "celery":
            prefix = f"bench-{uuid.uuid4().hex[:8]}:"
            env["CELERY_BROKER_URL"] = harness.broker_url()
            env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps(
                {"global_keyprefix": prefix}
            )
            cleanup.callback(
                harness.redis_keys, python, env["CELERY_BROKER_URL"], prefix, "delete"
            )
        on = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}

        def run(*command, extra=None):
            return harness.run([python, *command], path, env | (extra or {})).stdout

        run("manage.py", "collectstatic", "--no-input")
        run("manage.py", "migrate", "--no-input")

        # Two servers, one worker each; only one is under load at a time.
        ports, servers = {}, {}
        for variant, extra in (("off", {}), ("on", on)):
            port = ports[variant] = harness.free_port()
            server = harness.start(
                [python, "-m", "gunicorn", "-c", "config/gunicorn.py"],
                tmp / f"gunicorn-{variant}.log",
                path,
                env
                | extra
                | {"GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 1"},
            )
            servers[variant] = server
            cleanup.callback(harness.stop, server)
            harness.wait_for_http(
                f"http://127.0.0.1:{port}/healthz/",
                [server],
                f"gunicorn ({variant}) did not start",
                headers={"X-Forwarded-Proto": "https"},
            )

        latencies = {"off": [], "on": []}
        cpu = {"off": [], "on": []}  # CPU seconds per signup, one per round
        for variant in ports:  # warm up: connections, templates, the hasher
            for _ in range(3):
                username = f"warm{variant}{uuid.uuid4().hex[:8]}"
                timed_sign_up(harness.Browser(ports[variant]), username)
        for number in range(args.rounds):
            order = ["off", "on"] if number % 2 == 0 else ["on", "off"]
            for variant in order:
                browser = harness.Browser(ports[variant])
                before = cpu_seconds(servers[variant].pid)
                for _ in range(args.signups):
                    username = f"{variant}{uuid.uuid4().hex[:10]}"
                    latencies[variant].append(timed_sign_up(browser, username))
                # The email, sent after the response, is counted too.
                last = f"{username}@example.com"
                assert mail.wait_for(lambda m, last=last: m.count()[last] == 1, 60)
                used = cpu_seconds(servers[variant].pid) - before
                cpu[variant].append(used / args.signups)
        exported = len(receiver.all_spans())

        run("-c", MAKE_USERS, str(args.users))
        reads = {"off": [], "on": []}
        for number in range(args.rounds):
            order = ["off", "on"] if number % 2 == 0 else ["on", "off"]
            for variant in order:
                extra = on if variant == "on" else {}
                output = run(
                    "-c",
                    READ,
                    str(args.users + total_signups(args)),
                    "3",
                    variant,
                    extra=extra,
                )
                reads[variant].extend(json.loads(output))

    print(
        f"Tracing off and on, background={args.background}, PostgreSQL, "
        f"{args.rounds} alternating rounds ({exported} spans exported):"
    )
    print(f"  signup POST, {len(latencies['off'])} per variant: median / p95")
    for variant in ("off", "on"):
        median, p95 = milliseconds(latencies[variant])
        print(f"    {variant:<4} {median:7.1f} ms / {p95:7.1f} ms")
    off, on = milliseconds(latencies["off"]), milliseconds(latencies["on"])
    print(f"    ratio on/off: median {on[0] / off[0]:.3f}, p95 {on[1] / off[1]:.3f}")
    print(f"  CPU of the web server per signup, median of {args.rounds} rounds")
    for variant in ("off", "on"):
        print(f"    {variant:<4} {statistics.median(cpu[variant]) * 1000:7.1f} ms")
    cpu_ratio = statistics.median(cpu["on"]) / statistics.median(cpu["off"])
    print(f"    ratio on/off: {cpu_ratio:.3f}")
    print(f"  reading {args.users:,} users, CPU, {len(reads['off'])} reads per variant")
    for variant in ("off", "on"):
        median, p95 = milliseconds(reads[variant])
        print(f"    {variant:<4} {median:7.1f} ms / {p95:7.1f} ms")
    ratio = milliseconds(reads["on"])[0] / milliseconds(reads["off"])[0]
    print(f"    ratio on/off: median {ratio:.3f}")
    verdict = "within" if on[0] / off[0] <= 1.10 else "over"
    print(f"  signup median {verdict} the target of 1.10")


def total_signups(args):
    """Every user the signups made: the warm-up's and the rounds'."""
    return 2 * 3 + 2 * args.rounds * args.signups


if __name__ == "__main__":
    main()
