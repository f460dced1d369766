"""Signups per second through the signup form, with Argon2 or PBKDF2 hashing the password.

Renders the project (background=none), and serves it with gunicorn twice at
once, one server per hasher (the same code and database; only
PASSWORD_HASHERS differs, through a settings module written for the
benchmark). Then, round after round, the same load goes to one server and
then the other: CLIENTS concurrent visitors, each signing up again and again
as a browser does (GET the form for its CSRF token, POST it, expect the
redirect to "check your inbox"), until SIGNUPS signups are done. Each round gives
signups per second; the report shows the median of each hasher and their
ratio. Interleaving the rounds keeps the comparison fair on a machine whose
load changes.

    .venv/bin/python benchmarks/hashers.py [--signups 200] [--clients 20] [--rounds 2]

Needs a Python with the project's dependencies (--python; default: the
newest shared virtualenv `make test` builds in build/), and PostgreSQL
(DATABASE_URL's server, default postgres://postgres@127.0.0.1:5432) unless
--database sqlite.
"""

import argparse
import contextlib
import http.client
import json
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support import harness  # noqa: E402

PASSWORD = "analytical-engine-1843"

# Only the hasher differs: the first in the list hashes new passwords.
HASHERS = {
    "Argon2": "django.contrib.auth.hashers.Argon2PasswordHasher",
    "PBKDF2": "django.contrib.auth.hashers.PBKDF2PasswordHasher",
}
SETTINGS = '''"""Written by benchmarks/hashers.py: local settings with one password hasher."""

from .local import *  # noqa: F403

DEBUG = False
SIGNALS_SLOW_RECEIVER_GUARD = False
PASSWORD_HASHERS = ["{hasher}"]
# Every signup comes from this one address: no limit.
SIGNUP_ATTEMPTS_PER_ADDRESS = 10**9
'''
# Runs in the project: CPU and wall time of one hash with each hasher, alone.
ONE_HASH = """
import json, sys, time, django
django.setup()
from django.contrib.auth.hashers import make_password

algorithms, count = sys.argv[1:-1], int(sys.argv[-1])
times = {algorithm: [] for algorithm in algorithms}
for _ in range(count):
    for algorithm in algorithms:
        cpu, wall = time.process_time(), time.perf_counter()
        make_password("analytical-engine-1843", hasher=algorithm)
        times[algorithm].append((time.process_time() - cpu, time.perf_counter() - wall))
print(json.dumps(times))
"""
ALGORITHMS = {"Argon2": "argon2", "PBKDF2": "pbkdf2_sha256"}
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def run(python, args, cwd, env):
    return harness.run([python, *args], cwd, env).stdout


class Server:
    """gunicorn serving the project with one hasher: 2 workers, 10 threads each."""

    def __init__(self, name, project, python, env, log):
        self.name, self.port = name, harness.free_port()
        self.process = harness.start(
            [python, "-m", "gunicorn", "config.wsgi", "--workers", "2",
             "--threads", "10", "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning"],
            log, project, env,
        )  # fmt: skip

    def wait_until_up(self):
        harness.wait_for_http(
            f"http://127.0.0.1:{self.port}/healthz/",
            [self.process],
            f"gunicorn ({self.name}) did not start",
        )

    def stop(self):
        harness.stop(self.process, timeout=30)


def sign_up(port, username):
    """One visitor's signup, as a browser does it: the form, then its POST."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", "/accounts/signup/")
        response = connection.getresponse()
        page = response.read().decode()
        cookies = [
            value.split(";", 1)[0]
            for name, value in response.getheaders()
            if name.lower() == "set-cookie"
        ]
        token = CSRF_TOKEN.search(page).group(1)
        body = urlencode(
            {
                "csrfmiddlewaretoken": token,
                "username": username,
                "email": f"{username}@example.com",
                "password1": PASSWORD,
                "password2": PASSWORD,
            }
        )
        connection.request(
            "POST",
            "/accounts/signup/",
            body,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": "; ".join(cookies),
            },
        )
        response = connection.getresponse()
        response.read()
        if (
            response.status != 302
            or response.getheader("Location") != "/accounts/signup/done/"
        ):
            raise RuntimeError(f"signup of {username} answered {response.status}")
    finally:
        connection.close()


def load(port, prefix, signups, clients):
    """`signups` signups by `clients` concurrent visitors; returns signups per second."""
    numbers = iter(range(signups))
    lock = threading.Lock()
    errors = []

    def visitor():
        while True:
            with lock:
                number = next(numbers, None)
            if number is None or errors:
                return
            try:
                sign_up(port, f"{prefix}{number}")
            except Exception as error:  # reported below; stops the round
                errors.append(error)

    threads = [threading.Thread(target=visitor) for _ in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        sys.exit(f"{len(errors)} signup(s) failed, the first: {errors[0]}")
    return signups / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signups", type=int, default=200, help="per round")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=2, help="per hasher")
    parser.add_argument(
        "--database", choices=["postgresql", "sqlite"], default="postgresql"
    )
    parser.add_argument("--python", help="default: the shared project virtualenv")
    args = parser.parse_args()
    args.python = args.python or harness.project_python()

    with (
        tempfile.TemporaryDirectory(prefix="hashers-") as tmp,
        contextlib.ExitStack() as cleanup,
    ):
        tmp = Path(tmp)
        config = harness.cookiecutter_config(tmp / "cookiecutter")
        project = harness.render(tmp, config, background="none", database=args.database)
        env = harness.clean_environ() | {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if args.database == "postgresql":
            env["DATABASE_URL"] = cleanup.enter_context(
                harness.fresh_database(
                    args.python, harness.database_url("bench_hashers")
                )
            )
        run(args.python, ["manage.py", "migrate", "--no-input"], project, env)
        one_hash = json.loads(
            run(args.python, ["-c", ONE_HASH, *ALGORITHMS.values(), "5"], project, env)
        )

        servers = {}
        try:
            for name, hasher in HASHERS.items():
                module = f"bench_{name.lower()}"
                (project / "config" / "settings" / f"{module}.py").write_text(
                    SETTINGS.format(hasher=hasher)
                )
                server_env = env | {
                    "DJANGO_SETTINGS_MODULE": f"config.settings.{module}"
                }
                servers[name] = Server(
                    name, project, args.python, server_env, tmp / f"{module}.log"
                )
            for server in servers.values():
                server.wait_until_up()
                load(
                    server.port,
                    f"warm{server.name.lower()}_",
                    2 * args.clients,
                    args.clients,
                )
            rates = {name: [] for name in servers}
            for round_number in range(args.rounds):
                for name, server in servers.items():
                    prefix = f"r{round_number}{name.lower()}{uuid.uuid4().hex[:4]}_"
                    rate = load(server.port, prefix, args.signups, args.clients)
                    rates[name].append(rate)
                    print(
                        f"round {round_number + 1}, {name}: {rate:.2f} signups/s",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                server.stop()

    report(rates, one_hash, args)


def report(rates, one_hash, args):
    medians = {name: statistics.median(values) for name, values in rates.items()}
    print(
        f"\n{args.signups} signups per round through the form, {args.clients} "
        f"concurrent clients, {args.rounds} rounds per hasher, {args.database}, "
        "gunicorn with 2 workers of 10 threads\n"
    )
    print("| hasher | signups/s (median) | rounds | one hash: CPU | one hash: wall |")
    print("| --- | ---: | --- | ---: | ---: |")
    for name, median in medians.items():
        rounds = ", ".join(f"{rate:.2f}" for rate in rates[name])
        times = one_hash[ALGORITHMS[name]]
        cpu = statistics.median(cpu for cpu, _ in times)
        wall = statistics.median(wall for _, wall in times)
        print(
            f"| {name} | {median:.2f} | {rounds} | {cpu * 1000:.0f} ms | {wall * 1000:.0f} ms |"
        )
    print(f"\nArgon2 / PBKDF2: {medians['Argon2'] / medians['PBKDF2']:.2f}x")


if __name__ == "__main__":
    main()
