"""Does the signup page answer faster for an address that has an account than for a new one?

The signup page of issue 22 (finding 2) answers a taken address as a new
one; this measures whether its time tells them apart. Renders the project
with background=none and SQLite, serves it with gunicorn (config/gunicorn.py,
one sync worker, production settings, so Argon2 hashes the passwords) and
posts the signup form over a raw socket with `Connection: close`,
alternating a new address (a fresh username and address each time) and one
that has an account (typed in another case, with a fresh username), N times
each. It times each POST until its whole response is read, and until the
server closes the connection: a sync worker closes it only once the work
after the response (the email, web/after_response.py) is done.

Every email is a simulated send of --delay seconds (tests/support/
slow_email.py). Twice: with NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN at 0 (every
taken signup emails the owner, as every new one gets its welcome email),
then at an hour (after the first, a taken signup sends nothing). The limits
per address and per email address are lifted for the run.

    .venv/bin/python benchmarks/signup_timing.py [--requests 30] [--delay 0.2]

`--template` renders another checkout of the template instead. Needs a
Python with the project's dependencies (--python; default: the shared
virtualenv `make test` builds in build/).
"""

import argparse
import json
import re
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from offload import milliseconds  # noqa: E402
from reset_timing import whole_response  # noqa: E402
from support import harness  # noqa: E402

NEW, TAKEN = "new", "taken"
OWNER = "owner@example.com"
PASSWORD = "Analytical engine 1843"
# Before each request, so that each starts on an idle server whatever came before.
PAUSE = 0.05

CREATE_OWNER = """
import django
django.setup()
from django.contrib.auth import get_user_model
get_user_model().objects.create_user("owner", "owner@example.com", "pw-unused-1234")
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="per kind")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per email")
    parser.add_argument("--python", help="default: the shared project virtualenv")
    parser.add_argument(
        "--template",
        default=str(harness.TEMPLATE),
        help="the template to render, e.g. a `git worktree` of an older commit",
    )
    args = parser.parse_args()
    python = args.python or harness.project_python()

    with tempfile.TemporaryDirectory(prefix="signup-timing-") as tmp:
        tmp = Path(tmp)
        config = harness.cookiecutter_config(tmp / "cookiecutter")
        project = harness.render(
            tmp, config, args.template, background="none", database="sqlite"
        )
        env = harness.clean_environ() | {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SITE_URL": "https://shop.example.com",
            # Plain HTTP here: no proxy in front to speak TLS.
            "DJANGO_SECURE_SSL_REDIRECT": "False",
            "DATABASE_URL": f"sqlite:///{project / 'db.sqlite3'}",
            "DJANGO_LOG_LEVEL": "WARNING",
            "DJANGO_EMAIL_BACKEND": "slow_email.SlowEmailBackend",
            "DJANGO_EMAIL_OPTIONS": json.dumps(
                {"file_path": str(tmp / "mail"), "delay": args.delay}
            ),
            "SIGNUP_ATTEMPTS_PER_ADDRESS": str(10**9),
            "SIGNUP_ATTEMPTS_PER_EMAIL": str(10**9),
            "PYTHONPATH": str(harness.SUPPORT),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        harness.run([python, "manage.py", "migrate", "--no-input"], project, env)
        harness.run([python, "manage.py", "collectstatic", "--no-input"], project, env)
        harness.run([python, "-c", CREATE_OWNER], project, env)
        results = {
            cooldown: measure(python, project, env, tmp, args.requests, cooldown)
            for cooldown in (0, 3600)
        }
    report(results, args)


def measure(python, project, env, tmp, count, cooldown):
    """Under gunicorn: each signup POST's (seconds to the response, to the close), by kind."""
    port = harness.free_port()
    env = env | {
        "NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN": str(cooldown),
        "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 1",
    }
    server = harness.start(
        [python, "-m", "gunicorn", "-c", "config/gunicorn.py"],
        tmp / f"gunicorn-{cooldown}.log", project, env,
    )  # fmt: skip
    try:
        harness.wait_for_http(
            f"http://127.0.0.1:{port}/healthz/", [server], "gunicorn did not answer"
        )
        page, html = harness.http_request(f"http://127.0.0.1:{port}/accounts/signup/")
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
        results = {NEW: [], TAKEN: []}

        def post(kind):
            name = f"u{uuid.uuid4().hex[:12]}"
            email = f"{name}@example.com" if kind == NEW else OWNER.upper()
            form = {
                "csrfmiddlewaretoken": token.decode(),
                "username": name,
                "email": email,
                "password1": PASSWORD,
                "password2": PASSWORD,
            }
            time.sleep(PAUSE)
            results[kind].append(post_and_close(port, cookie, urlencode(form)))

        for _ in range(3):  # warm up: imports, templates, the database file
            post(TAKEN)
            post(NEW)
        for key in results:
            results[key].clear()
        for n in range(count):
            for kind in (NEW, TAKEN) if n % 2 else (TAKEN, NEW):
                post(kind)
        return results
    finally:
        harness.stop(server, timeout=30)


def post_and_close(port, cookie, body):
    """POST the signup form on a socket of its own: (seconds to the response, to the close)."""
    request = (
        "POST /accounts/signup/ HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Cookie: {cookie}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
        f"{body}"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        start = time.perf_counter()
        connection.sendall(request)
        data, answered = b"", None
        while chunk := connection.recv(65536):
            data += chunk
            if answered is None and whole_response(data):
                answered = time.perf_counter() - start
        closed = time.perf_counter() - start
    if not data.startswith(b"HTTP/1.1 302") or b"/accounts/signup/done/" not in data:
        sys.exit(f"the signup page answered {data[:200]!r}")
    return answered if answered is not None else closed, closed


def report(results, args):
    print(
        f"\n{args.requests} signups per kind, background=none, SQLite, gunicorn "
        "(1 sync worker, production settings: Argon2), Connection: close, "
        f"simulated send {args.delay * 1000:.0f} ms\n"
    )
    print("| signup | cool-down 0: median | p95 | inside the cool-down: median | p95 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for index, what in ((0, "response"), (1, "connection closed")):
        for kind, name in ((TAKEN, "taken address"), (NEW, "new address")):
            cells = [
                f"{value:.1f} ms"
                for by_kind in results.values()
                for value in milliseconds([times[index] for times in by_kind[kind]])
            ]
            print(f"| {name}: {what} | {' | '.join(cells)} |")
    for cooldown, by_kind in results.items():
        for index, what in ((0, "response"), (1, "close")):
            taken = statistics.median(times[index] for times in by_kind[TAKEN])
            new = statistics.median(times[index] for times in by_kind[NEW])
            print(
                f"\n{what.capitalize()}, taken / new, medians, cool-down "
                f"{cooldown} s: {taken / new:.2f}; difference "
                f"{(taken - new) * 1000:.1f} ms"
            )


if __name__ == "__main__":
    main()
