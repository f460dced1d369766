"""Nodes of a rendered project behind the nginx it ships (deploy/nginx.conf).

For tests/test_two_nodes.py and benchmarks/nodes.py. A node is what a
machine of a deployment runs: gunicorn with production settings
(config/gunicorn.py) and a worker, started through a Site of
support/worker_site.py (process groups, logs, the Celery key prefix).
nginx is Debian's package (scripts/install-nginx), run in the foreground
from a directory of its own, with the project's deploy/nginx.conf as it is
but for its upstream addresses and listen ports, and a self-signed
certificate made with openssl.
"""

import contextlib
import http.client
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from support import harness

# The upstream addresses and listen lines of deploy/nginx.conf, replaced.
SHIPPED_UPSTREAMS = ("10.0.0.11:8000", "10.0.0.12:8000")
SHIPPED_LISTEN = {"https": "listen 443 ssl;", "http": "listen 80;"}
LOCUSTFILE = harness.TEMPLATE / "benchmarks" / "signup_locustfile.py"
# What a Celery worker runs as root warns about, before logging is set up.
CELERY_ROOT_WARNING = "ignore::UserWarning:celery.platforms"


def nginx_binary():
    """Debian's nginx, on PATH or in /usr/sbin; None if it is not installed."""
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    return found if os.access(found, os.X_OK) else None


def production_env(mail_port, **more):
    """The environment of every node: production settings, but a fast password hash.

    fast_hash_production_settings (support/) is production's with MD5 for
    passwords, so that the load measures the nodes, not Argon2. nginx is the
    one proxy: DJANGO_TRUSTED_PROXIES=1. One client sends every signup of
    the load: the limit of signups per address is lifted.
    """
    return {
        **harness.production_environ(),
        "DJANGO_SETTINGS_MODULE": "fast_hash_production_settings",
        "PYTHONPATH": str(harness.SUPPORT),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "DJANGO_EMAIL_OPTIONS": json.dumps({"host": "127.0.0.1", "port": mail_port}),
        "DJANGO_TRUSTED_PROXIES": "1",
        # Every signup of the load comes from one client address (locust's).
        "SIGNUP_ATTEMPTS_PER_ADDRESS": str(10**9),
        "PYTHONWARNINGS": CELERY_ROOT_WARNING,
        **more,
    }


class Nginx:
    """nginx from a temporary directory of its own, in front of `upstreams`.

    Run as root, nginx gives its workers to `nobody` (the shipped file names
    no user): the directory is readable by all, as their temporary files
    need. `url` is the HTTPS address; `cafile` the certificate to trust.
    """

    def __init__(self, project_path, upstreams):
        self.binary = nginx_binary()
        self.directory = Path(tempfile.mkdtemp(prefix="nginx-"))
        self.directory.chmod(
            stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
        )
        (self.directory / "logs").mkdir()
        (self.directory / "tls").mkdir()
        self.port = harness.free_port()
        self.http_port = harness.free_port()  # the plain-HTTP server's
        self.url = f"https://127.0.0.1:{self.port}"
        self.cafile = self.directory / "tls" / "fullchain.pem"
        self.config = self.directory / "nginx.conf"
        self.config.write_text(
            self.configure(
                (project_path / "deploy" / "nginx.conf").read_text(), upstreams
            )
        )
        self.process = None

    def configure(self, text, upstreams):
        """The shipped file with the nodes' addresses and free local ports."""
        replacements = {
            **dict(zip(SHIPPED_UPSTREAMS, upstreams, strict=True)),
            SHIPPED_LISTEN["https"]: f"listen 127.0.0.1:{self.port} ssl;",
            SHIPPED_LISTEN["http"]: f"listen 127.0.0.1:{self.http_port};",
        }
        for shipped, local in replacements.items():
            assert text.count(shipped) == 1, f"{shipped!r} not once in nginx.conf"
            text = text.replace(shipped, local)
        return text

    def start(self):
        harness.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1",
                "-keyout", self.directory / "tls" / "privkey.pem",
                "-out", self.cafile,
            ],
            self.directory,
        )  # fmt: skip
        self.process = harness.start(
            [
                self.binary, "-p", f"{self.directory}/", "-c", self.config,
                "-e", "stderr", "-g", "daemon off;",
            ],
            self.directory / "nginx-output.log",
            self.directory,
            None,
        )  # fmt: skip
        harness.wait_for(
            lambda: self.get("/healthz/", timeout=5)[0] == 200,
            "nginx did not answer on /healthz/",
            [self.process],
        )

    def context(self):
        return ssl.create_default_context(cafile=str(self.cafile))

    def get(self, path, timeout=30):
        """GET through nginx over HTTPS: (status, body), or (0, error) without an answer."""
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=timeout, context=self.context()
        )
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        except OSError as error:
            return 0, str(error)
        finally:
            connection.close()

    def get_plain(self, path, timeout=30):
        """GET through nginx's plain-HTTP server: (status, Location, body)."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.http_port, timeout=timeout
        )
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.getheader("Location", ""), response.read()
        finally:
            connection.close()

    def access_log(self):
        path = self.directory / "logs" / "access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs(self):
        text = harness.output(self.process) if self.process else ""
        error_log = self.directory / "logs" / "error.log"
        if error_log.exists():
            text += error_log.read_text(errors="replace")
        return text

    def stop(self):
        if self.process is not None:
            harness.stop(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


class Node:
    """One machine's processes: gunicorn and a worker, started by `site`."""

    def __init__(self, site, name):
        self.site = site
        self.name = name
        self.port = harness.free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.processes = []

    def start(self, web_workers=2):
        python = self.site.project.python
        gunicorn = self.site.start(
            f"gunicorn-{self.name}",
            python, "-m", "gunicorn", "-c", "config/gunicorn.py",
            "--bind", self.address, "--workers", str(web_workers),
            ready="Booting worker",
        )  # fmt: skip
        harness.wait_for_http(
            f"http://{self.address}/healthz/",
            [gunicorn],
            f"node {self.name}'s gunicorn did not answer",
            headers={"X-Forwarded-Proto": "https"},
        )
        if self.site.background == "celery":
            worker = self.site.worker(concurrency=1)
        else:
            # The Procfile's line: schedule_sweep (which queues nothing when
            # a sweep waits already), then db_worker.
            worker = self.site.worker()
        self.processes = [gunicorn, worker]
        return self

    def worker_id(self):
        """The id db_worker gave itself (django-tasks), from its log."""
        log = self.processes[1].log.read_text(errors="replace")
        return log.split("Starting worker worker_id=", 1)[1].split()[0]

    def kill(self):
        """SIGKILL to the process groups of gunicorn and of the worker, not restarted."""
        for process in self.processes:
            self.site.kill(process)
        for process in self.processes:
            process.wait()


def locust(url, users, limit, results, cafile, log, csv_prefix=None):
    """Start locust, headless, signing up through `url` until `limit` signups.

    Each signup tried is a line of `results` (benchmarks/signup_locustfile.py).
    Returns the process (started by harness.start, in a group of its own).
    """
    command = [
        Path(sys.executable).parent / "locust", "-f", LOCUSTFILE,
        "--headless", "--only-summary", "--host", url,
        "--users", str(users), "--spawn-rate", str(users),
        "--run-time", "15m", "--stop-timeout", "5",
    ]  # fmt: skip
    if csv_prefix is not None:
        command += ["--csv", csv_prefix]
    env = {
        **os.environ,
        "SIGNUP_RESULTS": str(results),
        "SIGNUP_LIMIT": str(limit),
        "SIGNUP_CA_BUNDLE": str(cafile),
    }
    return harness.start(command, log, harness.TEMPLATE, env)


def results(path):
    """{username: status} of the signups locust tried, from its results file."""
    with contextlib.suppress(FileNotFoundError):
        # The last piece, unless empty, is a line being written.
        lines = Path(path).read_text().split("\n")[:-1]
        return dict(line.split(" ", 1) for line in lines)
    return {}


def ended(process, timeout):
    """Wait for a process to exit; False if it still runs after `timeout` seconds."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return True
