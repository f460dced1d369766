"""Does a password reset page answer faster for an unknown address than for a known one?

Renders the project with background=none (no worker: the email is sent by
the web process itself), serves it with `manage.py runserver` (Django's
threaded WSGI server), gives email a simulated slow mail server
(tests/support/slow_email.py: every send waits --delay seconds), and posts
the reset form over HTTP, alternating a known and an unknown address, N
times each. It times each POST until its whole response is read, and, for
the known address, until the email is written.

The cool-down is set to 0 (NOTIFICATIONS_RESET_COOLDOWN), so every request
for the known address writes its outbox row and sends an email: the worst
case for the comparison. After each request for it the benchmark waits
until the delivery has written `sent_at`, and every request starts 50 ms
after the one before is done, so none runs alongside the work of another.

    .venv/bin/python benchmarks/reset_timing.py [--requests 50] [--delay 0.2]

`--template` renders another checkout of the template instead, e.g. the
commit before the reset page stopped waiting for the mail server:

    mkdir /tmp/before && git archive 3eac1bb | tar -x -C /tmp/before
    .venv/bin/python benchmarks/reset_timing.py --template /tmp/before

Then it serves the same project with gunicorn (config/gunicorn.py, one sync
worker, production settings but for the redirect to HTTPS) and posts the
form again over a raw socket with `Connection: close`, timing both the
whole response and the moment the server closes the connection: a sync
worker closes it only once the work after the response is done, so that
time is what a client can still see of the lookup and the send. Twice:
with the cool-down at 0 (every known request sends), then at an hour (after
the first email, only the lookup differs).

If the reset page waited for the mail server, the known address would
answer --delay seconds slower; the ratio of the medians, known / unknown,
would be far above 1. Needs a Python with the project's dependencies
(--python; default: the shared virtualenv `make test` builds in build/).
"""

import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import form_timing  # noqa: E402
from offload import milliseconds  # noqa: E402
from support import harness  # noqa: E402

KNOWN, UNKNOWN = "known@example.com", "unknown@example.com"
PATH = "/accounts/password_reset/"


def emails(mail):
    """How many emails the file backend has written (several may share a file)."""
    if not mail.exists():
        return 0
    separator = b"\n" + b"-" * 79 + b"\n"
    return sum(path.read_bytes().count(separator) for path in mail.iterdir())


def reset_sent_at(database):
    """The sent_at of the known user's reset notification, read from SQLite."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT sent_at FROM notifications_notification WHERE kind = ?",
            ["password_reset"],
        ).fetchone()
    return row and row[0]


def main():
    args = form_timing.parse_args(__doc__, requests=50, per="per address")
    python = args.python or harness.project_python()

    with tempfile.TemporaryDirectory(prefix="reset-timing-") as tmp:
        tmp = Path(tmp)
        project = form_timing.render(tmp, args.template)
        mail = tmp / "mail"
        env = form_timing.slow_email_environ(mail, args.delay) | {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "False",
            # Its warnings are for development; production runs without it.
            "DJANGO_SIGNALS_SLOW_RECEIVER_GUARD": "False",
            "NOTIFICATIONS_RESET_COOLDOWN": "0",
        }
        harness.run([python, "manage.py", "migrate", "--no-input"], project, env)
        form_timing.create_user(python, project, env, "known")
        port = harness.free_port()
        server = harness.start(
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
             "--skip-checks"],
            tmp / "runserver.log", project, env,
        )  # fmt: skip
        try:
            harness.wait_for_http(
                f"http://127.0.0.1:{port}/healthz/",
                [server],
                "runserver did not answer",
            )
            url = f"http://127.0.0.1:{port}{PATH}"
            results = measure(url, mail, project / "db.sqlite3", server, args.requests)
        finally:
            harness.stop(server, timeout=30)
        # Every known request sends an email; then, inside the cool-down,
        # none does and only the lookup differs.
        closes = {
            cooldown: measure_close(python, project, env, mail, tmp, args, cooldown)
            for cooldown in (0, 3600)
        }
    report(results, args)
    report_close(closes, args)


def measure_close(python, project, env, mail, tmp, args, cooldown):
    """Under gunicorn with production settings: each POST's response, and its close."""
    env = env | form_timing.production_environ(project)
    env["NOTIFICATIONS_RESET_COOLDOWN"] = str(cooldown)
    harness.run([python, "manage.py", "collectstatic", "--no-input"], project, env)
    log = tmp / f"gunicorn-{cooldown}.log"
    with form_timing.gunicorn(python, project, env, log) as port:
        cookie, token = form_timing.form_session(f"http://127.0.0.1:{port}{PATH}")
        results = {KNOWN: [], UNKNOWN: []}

        def post(email):
            body = urlencode({"email": email, "csrfmiddlewaretoken": token})
            sent_before = emails(mail)
            time.sleep(form_timing.PAUSE)
            data, times = form_timing.post_and_close(port, PATH, cookie, body)
            if not data.startswith(b"HTTP/1.1 302"):
                sys.exit(f"the reset page answered {data[:40]!r}")
            results[email].append(times)
            # The known address's email is written before the close.
            if cooldown == 0 and email == KNOWN and emails(mail) == sent_before:
                sys.exit("the reset email was not written before the close")

        return form_timing.alternate(
            post, (UNKNOWN, KNOWN), args.requests, results, warm_up=5
        )


def measure(url, mail, database, server, count):
    """Alternate known and unknown addresses; time each POST, and each known email."""
    cookie, token = form_timing.form_session(url)
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    results = {KNOWN: [], UNKNOWN: [], "email": []}

    def post(email):
        body = urlencode({"email": email, "csrfmiddlewaretoken": token})
        sent_before, sent_at = emails(mail), reset_sent_at(database)
        time.sleep(form_timing.PAUSE)
        start = time.perf_counter()
        response, _ = harness.http_request(url, "POST", body, headers)
        answered = time.perf_counter() - start
        if response.status != 302:
            sys.exit(f"the reset page answered {response.status}")
        results[email].append(answered)
        if email == UNKNOWN:
            return

        # Let the delivery finish before the next request: the email, then
        # the UPDATE of sent_at.
        def written():
            return emails(mail) != sent_before

        def updated():
            return reset_sent_at(database) not in (None, sent_at)

        never = "the reset email never came"
        harness.wait_for(written, never, [server], step=0.002)
        results["email"].append(time.perf_counter() - start)
        harness.wait_for(updated, never, [server], step=0.002)

    return form_timing.alternate(post, (UNKNOWN, KNOWN), count, results, warm_up=5)


def report(results, args):
    known, unknown = milliseconds(results[KNOWN]), milliseconds(results[UNKNOWN])
    email = milliseconds(results["email"])
    print(
        f"\n{args.requests} reset requests per address, background=none, SQLite, "
        f"runserver, simulated send {args.delay * 1000:.0f} ms, cool-down 0\n"
    )
    print("| reset request | median | p95 |")
    print("| --- | ---: | ---: |")
    print(f"| known address: response | {known[0]:.1f} ms | {known[1]:.1f} ms |")
    print(f"| unknown address: response | {unknown[0]:.1f} ms | {unknown[1]:.1f} ms |")
    print(f"| known address: email written | {email[0]:.1f} ms | {email[1]:.1f} ms |")
    ratio = statistics.median(results[KNOWN]) / statistics.median(results[UNKNOWN])
    print(
        f"\nKnown / unknown, medians: {ratio:.2f}; "
        f"difference {known[0] - unknown[0]:.1f} ms "
        f"(the send alone takes {args.delay * 1000:.0f} ms)"
    )


def report_close(closes, args):
    print(
        f"\n{args.requests} reset requests per address, background=none, SQLite, "
        "gunicorn (1 sync worker, production settings), Connection: close, "
        f"simulated send {args.delay * 1000:.0f} ms\n"
    )
    kinds = ((KNOWN, "known address"), (UNKNOWN, "unknown address"))
    form_timing.print_close_table("reset request", closes, kinds)
    form_timing.print_ratios(
        closes, (KNOWN, UNKNOWN), "known / unknown", moments=((1, "Close"),)
    )


if __name__ == "__main__":
    main()
