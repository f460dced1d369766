"""Signups per second through the signup form, with Argon2 or PBKDF2 hashing the password.

Renders the project (background=none), and serves it with gunicorn twice at
once, one server per hasher (the same code and database; only
PASSWORD_HASHERS differs, through a settings module written for the
benchmark). Then, round after round, the same load goes to one server and
then the other: CLIENTS concurrent visitors, each signing up again and again
as a browser does (GET the form for its CSRF token, POST it, expect the
redirect to the profile), until SIGNUPS signups are done. Each round gives
signups per second; the report shows the median of each hasher and their
ratio. Interleaving the rounds keeps the comparison fair on a machine whose
load changes.

    .venv/bin/python benchmarks/hashers.py [--signups 200] [--clients 20] [--rounds 2]

Needs a Python with the project's dependencies and gunicorn (--python;
default: the newest shared virtualenv `make test` builds in build/, where
`pip install gunicorn` adds it), and PostgreSQL (DATABASE_URL's server,
default postgres://postgres@127.0.0.1:5432) unless --database sqlite.
"""

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = str(TEMPLATE / "tests" / "support" / "postgres_admin.py")
DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
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


def default_python():
    """The newest shared project virtualenv (built by `make test`)."""
    venvs = sorted(
        (TEMPLATE / "build").glob("project-venv-*/bin/python"),
        key=lambda python: python.stat().st_mtime,
    )
    return str(venvs[-1]) if venvs else sys.executable


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(python, args, cwd, env):
    result = subprocess.run(
        [python, *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    if result.returncode:
        sys.exit(f"{args[:2]} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Server:
    """gunicorn serving the project with one hasher: 2 workers, 10 threads each."""

    def __init__(self, name, project, python, env, log):
        self.name, self.port = name, free_port()
        self.log = open(log, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [python, "-m", "gunicorn", "config.wsgi", "--workers", "2",
             "--threads", "10", "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning"],
            cwd=project, env=env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def wait_until_up(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(
                    f"gunicorn ({self.name}) exited:\n{Path(self.log.name).read_text()}"
                )
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        sys.exit(f"gunicorn ({self.name}) did not start")

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


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
            or response.getheader("Location") != "/accounts/profile/"
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
    parser.add_argument("--python", default=default_python())
    args = parser.parse_args()
    if (
        run(
            args.python,
            ["-c", "import importlib.util as u; print(bool(u.find_spec('gunicorn')))"],
            TEMPLATE,
            os.environ,
        ).strip()
        != "True"
    ):
        sys.exit(f"{args.python} has no gunicorn: pip install gunicorn into it")

    with tempfile.TemporaryDirectory(prefix="hashers-") as tmp:
        tmp = Path(tmp)
        project = Path(
            cookiecutter(
                str(TEMPLATE),
                no_input=True,
                output_dir=str(tmp),
                extra_context={"background": "none", "database": args.database},
            )
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTHON"))
        }
        env |= {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        if args.database == "postgresql":
            server = urlsplit(os.environ.get("DATABASE_URL", DEFAULT_POSTGRES))
            env["DATABASE_URL"] = urlunsplit(server._replace(path="/bench_hashers"))
            run(
                args.python, [POSTGRES_ADMIN, "drop", env["DATABASE_URL"]], project, env
            )
            run(
                args.python,
                [POSTGRES_ADMIN, "create", env["DATABASE_URL"]],
                project,
                env,
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
            if args.database == "postgresql":
                run(
                    args.python,
                    [POSTGRES_ADMIN, "drop", env["DATABASE_URL"]],
                    project,
                    env,
                )

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
