"""What benchmarks/reset_timing.py and benchmarks/signup_timing.py share.

Not a benchmark itself. Both render the project with background=none and
SQLite, give email a simulated slow mail server
(tests/support/slow_email.py), serve the project with gunicorn
(config/gunicorn.py, one sync worker, production settings but for the
redirect to HTTPS) and post a form over a raw socket with `Connection:
close`, alternating two kinds of request, timing the whole response and the
moment the server closes the connection: a sync worker closes it only once
the work after the response is done. Both print the same table of those
times, at cool-down 0 and inside the cool-down.
"""

import argparse
import contextlib
import json
import re
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from offload import milliseconds  # noqa: E402
from support import harness  # noqa: E402

# Before each request, so that each starts on an idle server whatever came before.
PAUSE = 0.05

# Runs in the project: sys.argv[1], with the address sys.argv[1]@example.com.
CREATE_USER = """
import sys, django
django.setup()
from django.contrib.auth import get_user_model
get_user_model().objects.create_user(sys.argv[1], f"{sys.argv[1]}@example.com", "pw-unused-1234")
"""


def parse_args(doc, requests, per):
    """The command line both share; `requests` is the default count `per` kind."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=requests, help=per)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per email")
    parser.add_argument("--python", help="default: the shared project virtualenv")
    parser.add_argument(
        "--template",
        default=str(harness.TEMPLATE),
        help="the template to render, e.g. a `git worktree` of an older commit",
    )
    return parser.parse_args()


def render(tmp, template):
    """Render `template` in `tmp` with background=none and SQLite; the project's path."""
    config = harness.cookiecutter_config(tmp / "cookiecutter")
    return harness.render(tmp, config, template, background="none", database="sqlite")


def slow_email_environ(mail, delay):
    """This process's clean environment, every email a simulated send of `delay`
    seconds, written to the directory `mail`."""
    return harness.clean_environ() | {
        "DJANGO_EMAIL_BACKEND": "slow_email.SlowEmailBackend",
        "DJANGO_EMAIL_OPTIONS": json.dumps({"file_path": str(mail), "delay": delay}),
        "PYTHONPATH": str(harness.SUPPORT),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def production_environ(project):
    """Production settings, on the project's SQLite database, over plain HTTP."""
    return harness.production_environ() | {
        # Plain HTTP here: no proxy in front to speak TLS.
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": f"sqlite:///{project / 'db.sqlite3'}",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def create_user(python, project, env, username):
    harness.run([python, "-c", CREATE_USER, username], project, env)


@contextlib.contextmanager
def gunicorn(python, project, env, log):
    """gunicorn (config/gunicorn.py, one sync worker) serving the project: its port."""
    port = harness.free_port()
    env = env | {"GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} --workers 1"}
    server = harness.start(
        [python, "-m", "gunicorn", "-c", "config/gunicorn.py"], log, project, env
    )
    try:
        harness.wait_for_http(
            f"http://127.0.0.1:{port}/healthz/", [server], "gunicorn did not answer"
        )
        yield port
    finally:
        harness.stop(server, timeout=30)


def form_session(url):
    """GET a form's page: the session cookie and the CSRF token to post it with."""
    page, html = harness.http_request(url)
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]
    return cookie, token.decode()


def post_and_close(port, path, cookie, body):
    """POST a form to `path` on a socket of its own.

    Returns what the server sent, and (seconds to the whole response, to the close).
    """
    request = (
        f"POST {path} HTTP/1.1\r\n"
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
    return data, (answered if answered is not None else closed, closed)


def whole_response(data):
    """Whether data holds a response's headers and its whole body (Content-Length)."""
    head, separator, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(separator) and len(body) >= int(length[1] if length else 0)


def alternate(post, kinds, count, results, warm_up):
    """post(kind) for `warm_up` rounds of both kinds; then, `results` (lists
    by key) emptied, `count` rounds, each kind first every other round."""
    first, second = kinds
    for _ in range(warm_up):  # warm up: imports, templates, the database file
        post(first)
        post(second)
    for key in results:
        results[key].clear()
    for n in range(count):
        for kind in (second, first) if n % 2 else (first, second):
            post(kind)
    return results


def print_close_table(request, by_cooldown, kinds):
    """Median and p95 of the response and of the close, for each (key, name)
    of `kinds`, at cool-down 0 and inside the cool-down (`by_cooldown`)."""
    print(
        f"| {request} | cool-down 0: median | p95 | inside the cool-down: median | p95 |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")
    for index, what in ((0, "response"), (1, "connection closed")):
        for kind, name in kinds:
            cells = [
                f"{value:.1f} ms"
                for results in by_cooldown.values()
                for value in milliseconds([times[index] for times in results[kind]])
            ]
            print(f"| {name}: {what} | {' | '.join(cells)} |")


def print_ratios(by_cooldown, kinds, label, moments):
    """The ratio and the difference of the medians of the two kinds, for each
    cool-down and each (index into the times, name) of `moments`."""
    first, second = kinds
    for cooldown, results in by_cooldown.items():
        for index, what in moments:
            a = statistics.median(times[index] for times in results[first])
            b = statistics.median(times[index] for times in results[second])
            print(
                f"\n{what}, {label}, medians, cool-down {cooldown} s: "
                f"{a / b:.2f}; difference {(a - b) * 1000:.1f} ms"
            )
