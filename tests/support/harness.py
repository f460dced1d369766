"""What the template's tests and benchmarks share: render, run, serve, clean up.

Plain functions without pytest, so that the benchmarks import them too, with
tests/ on sys.path:

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.harness import free_port, render, start, stop  # noqa: E402

A failure raises AssertionError with what the command or the process printed:
pytest reports it as a failed test, a benchmark stops with it.
"""

import contextlib
import http.client
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from cookiecutter.main import cookiecutter

SUPPORT = Path(__file__).resolve().parent
TEMPLATE = SUPPORT.parent.parent
BUILD = TEMPLATE / "build"

WAIT = 60  # seconds: the default bound on every wait for a process or a server
COMMAND_TIMEOUT = 600
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


# Commands ------------------------------------------------------------------


def base_python():
    """The interpreter running this process, outside its virtualenv (3.12+, per the Makefile)."""
    executable = getattr(sys, "_base_executable", sys.executable)
    return str(Path(executable).resolve())


def clean_environ():
    """This process's environment without what would leak into a rendered project."""
    leaking = (
        "PYTEST_",
        "PYTHON",
        "DJANGO_",
        "VIRTUAL_ENV",
        "DATABASE_URL",
        "CELERY_",
        "NOTIFICATIONS_",
    )
    return {
        key: value for key, value in os.environ.items() if not key.startswith(leaking)
    }


def run(args, cwd, env=None, timeout=COMMAND_TIMEOUT, check=True):
    """Run a command; on failure, raise showing the command, stdout and stderr."""
    __tracebackhide__ = True
    args = [str(arg) for arg in args]
    try:
        process = subprocess.run(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"`{shlex.join(args)}` timed out after {timeout}s in {cwd}\n"
            f"--- stdout ---\n{error.stdout}\n--- stderr ---\n{error.stderr}"
        ) from None
    # An AssertionError (not pytest.fail) keeps hypothesis' falsifying example
    # in the report.
    if check and process.returncode != 0:
        raise AssertionError(
            f"`{shlex.join(args)}` exited {process.returncode} in {cwd}\n"
            f"--- stdout ---\n{process.stdout}\n--- stderr ---\n{process.stderr}"
        )
    return process


# Rendering -----------------------------------------------------------------


def cookiecutter_config(directory):
    """Write a cookiecutter user config that keeps replay files out of $HOME."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "config.yaml"
    # JSON is YAML, the format cookiecutter reads.
    config.write_text(
        json.dumps(
            {
                "cookiecutters_dir": str(directory / "cookiecutters"),
                "replay_dir": str(directory / "replay"),
            }
        )
    )
    return config


def render(output_dir, config, template=TEMPLATE, overwrite=False, **answers):
    """Render `template` with cookiecutter's Python API; return the project path.

    `overwrite`: render again over a project already there (cookiecutter -f).
    """
    return Path(
        cookiecutter(
            str(template),
            no_input=True,
            output_dir=str(output_dir),
            overwrite_if_exists=overwrite,
            extra_context=answers,
            config_file=str(config),
        )
    )


def project_python():
    """The Python of the newest complete shared project virtualenv in build/.

    tests/conftest.py builds it (`make test`, or any test that runs a
    rendered project): it holds the dependencies of every combination.
    """
    venvs = sorted(
        (complete.parent for complete in BUILD.glob("project-venv-*/.complete")),
        key=lambda venv: venv.stat().st_mtime,
    )
    if not venvs:
        raise AssertionError(
            "no shared project virtualenv in build/: run `make test` first "
            "(or one test that runs a project, e.g. tests/test_celery_worker.py)"
        )
    return str(venvs[-1] / "bin" / "python")


# Processes, each started in a process group of its own ---------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(args, log, cwd, env):
    """Start a command in a new session, so its own process group; output to `log`.

    A process group holds what the command forks too (gunicorn's workers,
    Celery's pool, the commands of a shell), so that `stop` ends them all.
    `process.log` is the log's path.
    """
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(arg) for arg in args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = Path(log)
    return process


def output(*processes):
    """What processes started by `start` have written so far."""
    return "\n".join(p.log.read_text(errors="replace") for p in processes)


def signal_group(process, sig=signal.SIGKILL):
    """Send a signal to the process group of a process started by `start`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def stop(process, timeout=20):
    """SIGTERM to the process group, SIGKILL after `timeout` seconds.

    Then SIGKILL to whatever of the group is left behind, if anything.
    """
    signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(process, signal.SIGKILL)
        process.wait()
    signal_group(process, signal.SIGKILL)


def group_cpu_seconds(groups):
    """CPU time used so far by the live processes of process groups: {name: s}.

    `groups` maps a process group id (the pid of a process `start` started)
    to a name; groups of one name add up. User and system time, read from
    /proc: unlike rates, it does not depend on what else the machine runs.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(groups.values(), 0.0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the name: state ppid pgrp ...; utime, stime are fields 14, 15.
        pgrp, utime, stime = int(fields[2]), int(fields[11]), int(fields[12])
        if pgrp in groups:
            used[groups[pgrp]] += (utime + stime) / ticks
    return used


def poll(condition, timeout=WAIT, step=0.1):
    """Wait until condition() is true; return whether it became true in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def wait_for(condition, failure, processes=(), timeout=WAIT, step=0.1):
    """Wait until condition() is true; raise `failure` and the processes' output
    if one of them exits first, or after `timeout` seconds."""
    __tracebackhide__ = True
    deadline = time.monotonic() + timeout
    while not condition():
        if any(p.poll() is not None for p in processes) or time.monotonic() > deadline:
            raise AssertionError(f"{failure}:\n{output(*processes)}")
        time.sleep(step)


def wait_for_output(process, text, failure, timeout=WAIT):
    """Wait until a process started by `start` has written `text`."""
    __tracebackhide__ = True
    wait_for(lambda: text in output(process), failure, [process], timeout)


# HTTP ----------------------------------------------------------------------


def http_request(url, method="GET", body=None, headers=None, timeout=30):
    """One request on a connection of its own, read to its end: (response, bytes)."""
    parts = urlsplit(url)
    target = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    with contextlib.closing(connection):
        connection.request(method, target, body, headers or {})
        response = connection.getresponse()
        return response, response.read()


def answers(url, headers=None, body=None):
    """Whether GET `url` answers 200 now (and with `body`, if given)."""
    try:
        response, content = http_request(url, headers=headers, timeout=5)
    except OSError:
        return False
    return response.status == 200 and body in (None, content.strip())


def wait_for_http(url, processes, failure, headers=None, body=None, step=0.1):
    """Wait until GET `url` answers 200 while the processes that serve it run."""
    __tracebackhide__ = True
    wait_for(lambda: answers(url, headers, body), failure, processes, step=step)


# Production settings, served on the loopback ------------------------------


def production_environ():
    """What production settings require, for a site served on 127.0.0.1."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        # Production settings require it: the links in the emails.
        "DJANGO_SITE_URL": "https://shop.example.com",
    }


# Services: PostgreSQL databases and Redis keys, through a project's Python --


def with_database_name(url, name):
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def database_url(name):
    """The URL of the database `name` on DATABASE_URL's server (or the default)."""
    return with_database_name(
        os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, name
    )


def broker_url():
    return os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL


def create_database(python, url):
    """Create the database of `url` unless it exists; True if it was created.

    Runs psycopg with a project's Python: the template's own venv has none.
    """
    admin = SUPPORT / "postgres_admin.py"
    return "created" in run([python, admin, "create", url], SUPPORT).stdout


def drop_database(python, url, check=True):
    run([python, SUPPORT / "postgres_admin.py", "drop", url], SUPPORT, check=check)


@contextlib.contextmanager
def fresh_database(python, url):
    """An empty database at `url` (one an earlier run left is dropped), dropped on exit."""
    drop_database(python, url)
    create_database(python, url)
    try:
        yield url
    finally:
        drop_database(python, url)


def redis_keys(python, url, prefix, action="count"):
    """Count ("count"), delete ("delete") the broker's keys under `prefix`, or
    count them once no task is queued or running ("idle"); returns the count."""
    script = SUPPORT / "redis_keys.py"
    return int(run([python, script, url, prefix, action], SUPPORT).stdout)


class ProxiedBrowser:
    """An HTTP client that acts like a browser reaching gunicorn through a TLS proxy.

    Every request says it came over HTTPS (X-Forwarded-Proto), a form is
    posted with the site's Origin, and the cookies the site set are sent back
    by hand: over plain HTTP a cookie jar would keep secure cookies, as it
    should. A subclass says how to reach the server (`connection()`), which
    origin the site has, and any header the proxy adds (`proxy_headers()`).
    """

    origin = ""

    def __init__(self):
        self.cookies = {}

    def connection(self):
        raise NotImplementedError

    def proxy_headers(self):
        return {"X-Forwarded-Proto": "https"}

    def request(self, method, path, form=None):
        """Send one request; return the response and its body as text."""
        headers = self.proxy_headers()
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
        connection = self.connection()
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return response, text


class Browser(ProxiedBrowser):
    """A browser reaching gunicorn's port on the loopback through a TLS proxy."""

    def __init__(self, port):
        super().__init__()
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"

    def connection(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=WAIT)

    def signup_form(self, username, password):
        """GET the signup page; return its form filled in, to POST."""
        response, page = self.request("GET", "/accounts/signup/")
        # Not a test module: pytest does not rewrite this assert, so it says
        # the status itself.
        assert response.status == 200, (
            f"the signup page answered {response.status}:\n{page}"
        )
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        return {
            "csrfmiddlewaretoken": token,
            "username": username,
            "email": f"{username}@example.com",
            "password1": password,
            "password2": password,
        }

    def sign_up(self, username):
        """Fill in and send the signup form; return the response to the POST."""
        form = self.signup_form(username, f"Pw-{uuid.uuid4().hex}")
        return self.request("POST", "/accounts/signup/", form)
