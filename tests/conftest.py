"""Fixtures and helpers shared by the template's tests.

Rendered projects run with one shared virtualenv, `build/project-venv-<hash>`,
that holds the dependencies of every combination (both background runners).
Only the dependencies are installed, never a rendered project itself: an
editable install of one rendered `acme_shop` would be importable from every
other rendered `acme_shop` and hide their bugs. Each project runs from its own
root, where its pytest config (`pythonpath = ["."]`) and `manage.py` find it.
"""

import hashlib
import os
import re
import shutil
import socket
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from filelock import FileLock

# The harness the benchmarks share (tests/support/harness.py); the tests
# import these names from here too.
from support import harness
from support.harness import (
    BUILD,
    DEFAULT_BROKER_URL,
    DEFAULT_DATABASE_URL,
    TEMPLATE,
    clean_environ,
    create_database,
    drop_database,
    run,
    with_database_name,
)

# Its assertions report what differs, as a test's own do.
pytest.register_assert_rewrite("support.worker_site")

DATABASES = ("sqlite", "postgresql")
BACKGROUNDS = ("none", "django-tasks", "celery")
COMBINATIONS = [
    (database, background) for database in DATABASES for background in BACKGROUNDS
]
# The combinations whose dependencies, together, hold every other's.
SUPERSETS = [
    {"database": "postgresql", "background": "celery"},
    {"database": "postgresql", "background": "django-tasks"},
]

IN_CI = os.environ.get("CI") == "true"


def combination_id(database, background):
    return f"{database}-{background}"


def combination_params():
    """The option combinations, each in its own xdist group (rendered once per worker)."""
    return [
        pytest.param(
            combination,
            id=combination_id(*combination),
            marks=pytest.mark.xdist_group(combination_id(*combination)),
        )
        for combination in COMBINATIONS
    ]


def literal(value):
    """Wrap an answer so that cookiecutter keeps it as typed.

    With --no-input cookiecutter renders every answer as a Jinja template
    (a typed answer is not), so `{{ x }}` would be evaluated. A raw block
    gives back exactly the characters a user would have typed.
    """
    assert "endraw" not in value
    return "{% raw %}" + value + "{% endraw %}"


def mypy_cache(name):
    """A MYPY_CACHE_DIR for one kind of rendered project, kept between runs.

    mypy checks each cached module against its source's hash, so a cache
    shared by successive renders stays correct; warm, it skips reading
    django-stubs again (a check of the default project: 17 s cold, 3 s warm).
    One directory per name, and each name used by one test at a time.
    """
    path = BUILD / "mypy-cache" / name
    path.mkdir(parents=True, exist_ok=True)
    return {"MYPY_CACHE_DIR": str(path)}


def unavailable(reason):
    """Skip a test whose service is down; in CI (CI=true) fail it instead."""
    if IN_CI:
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def reachable_url(variable, default, what):
    """The service URL from the environment, after checking that a socket connects."""
    url = os.environ.get(variable) or default
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    try:
        socket.create_connection((host, port), timeout=5).close()
    except (OSError, TypeError) as error:
        unavailable(f"{what} not reachable at {host}:{port} (from {variable}): {error}")
    return url


def postgres_url():
    return reachable_url("DATABASE_URL", DEFAULT_DATABASE_URL, "PostgreSQL")


def redis_url():
    return reachable_url("CELERY_BROKER_URL", DEFAULT_BROKER_URL, "Redis")


def requirements_of(pyproject):
    """Requirement strings of a project: dependencies, extras and the dev group."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = data.get("project", {})
    requirements = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    groups = data.get("dependency-groups", {})

    def group(name):
        for entry in groups.get(name, []):
            if isinstance(entry, dict):
                yield from group(entry["include-group"])
            else:
                yield entry

    requirements.extend(group("dev"))
    return sorted(set(requirements))


def create_venv(path):
    run([sys.executable, "-m", "venv", path], cwd=path.parent)
    python = path / "bin" / "python"
    run(
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], cwd=path.parent
    )
    return python


def venv_environ(venv):
    env = clean_environ()
    env["VIRTUAL_ENV"] = str(venv)
    # pre-commit's local hooks find ruff and pre-commit-hooks' scripts on PATH.
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # Keep rendered projects free of __pycache__ between the checks on them.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass
class Project:
    """A rendered project and the virtualenv that runs it."""

    path: Path
    venv: Path
    database: str = "sqlite"
    background: str = "none"
    env: dict = field(default_factory=dict)
    # PostgreSQL databases created for projects, dropped at the end of the session.
    created_databases: list = field(default_factory=list)

    @property
    def python(self):
        return self.venv / "bin" / "python"

    def run(self, *args, env=None, **kwargs):
        __tracebackhide__ = True
        return run(args, cwd=self.path, env={**self.env, **(env or {})}, **kwargs)

    def py(self, *args, **kwargs):
        """Run this project's Python, e.g. `project.py("manage.py", "check")`."""
        __tracebackhide__ = True
        return self.run(self.python, *args, **kwargs)

    def with_services(self):
        """Point the project at the real services its options need (skip if down)."""
        env = {}
        if self.database == "postgresql":
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            # The checkout in the name too: two clones testing at once on one
            # server must not drop each other's databases at session end.
            checkout = hashlib.sha256(str(TEMPLATE).encode()).hexdigest()[:6]
            name = re.sub(
                r"\W",
                "_",
                f"tpl_{checkout}_{worker}_{self.path.name}_{self.background}",
            )[:63]  # PostgreSQL's limit on a name
            env["DATABASE_URL"] = with_database_name(postgres_url(), name)
            if create_database(self.python, env["DATABASE_URL"]):
                self.created_databases.append((self.python, env["DATABASE_URL"]))
        if self.background == "celery":
            env["CELERY_BROKER_URL"] = redis_url()
        self.env.update(env)
        return self


@pytest.fixture(scope="session")
def cookiecutter_config(tmp_path_factory):
    """A cookiecutter user config that keeps replay files out of $HOME."""
    return harness.cookiecutter_config(tmp_path_factory.mktemp("cookiecutter-home"))


@pytest.fixture(scope="session")
def render(cookiecutter_config):
    """Render the template with cookiecutter's Python API; return the project path."""

    def render(output_dir, overwrite=False, **extra_context):
        """`overwrite`: render again over a project already there (cookiecutter -f)."""
        return harness.render(
            output_dir, cookiecutter_config, overwrite=overwrite, **extra_context
        )

    return render


@pytest.fixture(scope="session")
def project_venv(tmp_path_factory, render):
    """The shared virtualenv with the dependencies of every combination.

    Keyed by a hash of the requirements and the Python version, so it is
    reused across runs until either changes; a file lock makes the xdist
    workers build it once.
    """
    requirements = sorted(
        {
            requirement
            for answers in SUPERSETS
            for requirement in requirements_of(
                render(tmp_path_factory.mktemp("superset"), **answers)
                / "pyproject.toml"
            )
        }
    )
    key = hashlib.sha256("\n".join([sys.version, *requirements]).encode()).hexdigest()
    venv = BUILD / f"project-venv-{key[:12]}"
    BUILD.mkdir(exist_ok=True)
    with FileLock(f"{venv}.lock"):
        complete = venv / ".complete"
        if not complete.exists():
            shutil.rmtree(venv, ignore_errors=True)
            python = create_venv(venv)
            run([python, "-m", "pip", "install", "--quiet", *requirements], cwd=BUILD)
            complete.write_text("\n".join(requirements) + "\n")
    return venv


@pytest.fixture(scope="session")
def bake_combination(cookies_session):
    """Bake each option combination once per worker; return pytest-cookies' Result."""
    results = {}

    def bake(database, background):
        if (database, background) not in results:
            result = cookies_session.bake(
                extra_context={"database": database, "background": background}
            )
            # What generation wrote, before any command runs in the project.
            result.rendered_files = (
                sorted(p for p in result.project_path.rglob("*") if p.is_file())
                if result.exception is None
                else []
            )
            results[database, background] = result
        return results[database, background]

    return bake


@pytest.fixture(scope="session")
def created_databases():
    created = []
    yield created
    for python, url in created:
        drop_database(python, url, check=False)


@pytest.fixture(scope="session")
def make_project(project_venv, created_databases):
    """Wrap a rendered project path into a `Project` run with the shared venv."""

    def make(path, database="sqlite", background="none"):
        return Project(
            Path(path),
            project_venv,
            database,
            background,
            env=venv_environ(project_venv),
            created_databases=created_databases,
        )

    return make
