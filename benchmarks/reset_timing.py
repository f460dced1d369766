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
case for the comparison. After each request the benchmark waits for that
email before the next request, so no request queues behind a send.

    .venv/bin/python benchmarks/reset_timing.py [--requests 50] [--delay 0.2]

If the reset page waited for the mail server, the known address would
answer --delay seconds slower; the ratio of the medians, known / unknown,
would be far above 1. Needs a Python with the project's dependencies
(--python; default: the shared virtualenv `make test` builds in build/).
"""

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from offload import SUPPORT, default_python, milliseconds, render

KNOWN, UNKNOWN = "known@example.com", "unknown@example.com"

CREATE_USER = """
import django
django.setup()
from django.contrib.auth import get_user_model
get_user_model().objects.create_user("known", "known@example.com", "pw-unused-1234")
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port, method, path, body=None, headers=None):
    """One request on its own connection, read to its end: (response, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def wait_for_server(port, server, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"runserver exited:\n{log.read_text()}")
        try:
            response, body = request(port, "GET", "/healthz/")
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit(f"runserver did not answer:\n{log.read_text()}")


def emails(mail):
    """How many emails the file backend has written (several may share a file)."""
    if not mail.exists():
        return 0
    separator = b"\n" + b"-" * 79 + b"\n"
    return sum(path.read_bytes().count(separator) for path in mail.iterdir())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="per address")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per email")
    parser.add_argument("--python", default=default_python())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="reset-timing-") as tmp:
        tmp = Path(tmp)
        project = render(tmp, "none", "sqlite")
        mail = tmp / "mail"
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "NOTIFICATIONS_"))
        }
        env |= {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "False",
            # Its warnings are for development; production runs without it.
            "DJANGO_SIGNALS_SLOW_RECEIVER_GUARD": "False",
            "DJANGO_EMAIL_BACKEND": "slow_email.SlowEmailBackend",
            "DJANGO_EMAIL_OPTIONS": json.dumps(
                {"file_path": str(mail), "delay": args.delay}
            ),
            "NOTIFICATIONS_RESET_COOLDOWN": "0",
            "PYTHONPATH": str(SUPPORT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }

        def manage(*command):
            subprocess.run(
                [args.python, *command], cwd=project, env=env, check=True,
                capture_output=True,
            )  # fmt: skip

        manage("manage.py", "migrate", "--no-input")
        manage("-c", CREATE_USER)
        port = free_port()
        log = tmp / "runserver.log"
        with open(log, "wb") as out:
            server = subprocess.Popen(
                [args.python, "manage.py", "runserver", f"127.0.0.1:{port}",
                 "--noreload", "--skip-checks"],
                cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_for_server(port, server, log)
            results = measure(port, mail, log, args.requests)
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(results, args)


def measure(port, mail, log, count):
    """Alternate known and unknown addresses; time each POST, and each known email."""
    page, html = request(port, "GET", "/accounts/password_reset/")
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
    results = {KNOWN: [], UNKNOWN: [], "email": []}

    def post(email):
        body = urlencode({"email": email, "csrfmiddlewaretoken": token.decode()})
        sent_before = emails(mail)
        start = time.perf_counter()
        response, _ = request(port, "POST", "/accounts/password_reset/", body, headers)
        answered = time.perf_counter() - start
        if response.status != 302:
            sys.exit(f"the reset page answered {response.status}")
        # Let the send finish before the next request, so none waits behind it.
        expected = sent_before + (email == KNOWN)
        deadline = time.monotonic() + 60
        while emails(mail) < expected:
            if time.monotonic() > deadline:
                sys.exit(f"the reset email never came:\n{log.read_text()}")
            time.sleep(0.002)
        results[email].append(answered)
        if email == KNOWN:
            results["email"].append(time.perf_counter() - start)

    for _ in range(5):  # warm up: imports, templates, the database file
        post(UNKNOWN)
        post(KNOWN)
    for key in results:
        results[key].clear()
    for n in range(count):
        pair = (KNOWN, UNKNOWN) if n % 2 else (UNKNOWN, KNOWN)
        for email in pair:
            post(email)
    return results


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


if __name__ == "__main__":
    main()
