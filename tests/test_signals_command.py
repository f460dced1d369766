"""Every rendered combination ships a docs/signals.md that matches its code.

Runs `manage.py signals --check docs/signals.md` in each rendered project.
The project runs with PROJECT_PYTHON (default: this Python), which needs the
generated project's dependencies (Django 6.1, django-environ, Pillow,
psycopg); without them the test is skipped, or fails under CI=true.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
PROJECT_PYTHON = os.environ.get("PROJECT_PYTHON", sys.executable)
COMBINATIONS = [
    (database, celery)
    for database in ("sqlite", "postgresql")
    for celery in ("no", "yes")
]


def project_environ():
    """This environment without what would leak into the rendered project."""
    leaking = ("DJANGO_", "DATABASE_URL", "CELERY_", "PYTEST_", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(leaking)}


@pytest.fixture(scope="module")
def project_python():
    probe = subprocess.run(
        [PROJECT_PYTHON, "-c", "import django, environ, PIL, psycopg"],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        reason = f"{PROJECT_PYTHON} lacks the project's dependencies: {probe.stderr}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return PROJECT_PYTHON


@pytest.mark.parametrize(
    ("database", "use_celery"),
    COMBINATIONS,
    ids=[f"{database}-celery_{celery}" for database, celery in COMBINATIONS],
)
def test_signals_check_passes_in_every_combination(
    tmp_path, project_python, database, use_celery
):
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(json.dumps({"replay_dir": str(tmp_path / "replay")}))
    project = cookiecutter(
        str(TEMPLATE),
        no_input=True,
        output_dir=str(tmp_path / "out"),
        extra_context={"database": database, "use_celery": use_celery},
        config_file=str(config),
    )

    result = subprocess.run(
        [project_python, "manage.py", "signals", "--check", "docs/signals.md"],
        cwd=project,
        env=project_environ(),
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "matches the receivers in the code" in result.stdout
