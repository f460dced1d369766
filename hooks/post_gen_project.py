"""Remove the files of disabled options, write .env, print the next steps."""

import json
import os
import re
import secrets
import shutil
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")
LICENSE = ANSWERS["open_source_license"]
SLUG = ANSWERS["project_slug"]
BACKGROUND = ANSWERS["background"]

# Files that belong to one option: (is the option on?, its paths).
# Jinja conditionals are kept for a few lines inside shared files only.
OPTION_PATHS = [
    (LICENSE != "Not open source", ["LICENSE"]),
    (
        BACKGROUND == "celery",
        [
            "config/celery.py",
            f"{SLUG}/notifications/tasks.py",
            f"{SLUG}/notifications/tests/test_tasks.py",
            f"{SLUG}/users/tasks.py",
            "app_template/tasks.py-tpl",
        ],
    ),
    # Without a worker, the web process sends after the response.
    (
        BACKGROUND == "none",
        [
            f"{SLUG}/notifications/tests/test_after_response.py",
            f"{SLUG}/users/tests/test_password_reset.py",
        ],
    ),
    # With a worker, the reset page's lookup runs there.
    (
        BACKGROUND != "none",
        [f"{SLUG}/users/tests/test_reset_task.py"],
    ),
    (
        BACKGROUND == "django-tasks",
        [
            f"{SLUG}/notifications/tasks.django-tasks.py",
            f"{SLUG}/notifications/stuck_tasks.py",
            f"{SLUG}/users/tasks.django-tasks.py",
            f"{SLUG}/notifications/management/commands/schedule_sweep.py",
            f"{SLUG}/notifications/tests/test_tasks.django-tasks.py",
            "app_template/tasks.django-tasks.py-tpl",
        ],
    ),
]
# Whole-file alternatives: a kept file named NAME.OPTION.EXT becomes NAME.EXT
# (tasks.django-tasks.py is the django-tasks tasks.py).
VARIANT = ".django-tasks"

# Every disabled path goes first, then the kept variants take their names:
# a variant's plain name (tasks.py) is itself a disabled path, so the order
# of the table does not matter.
for enabled, paths in OPTION_PATHS:
    for path in map(Path, paths):
        if enabled:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
for enabled, paths in OPTION_PATHS:
    for path in map(Path, paths):
        if enabled and VARIANT in path.name:
            path.rename(path.with_name(path.name.replace(VARIANT, "")))

# The locked versions (uv.lock, and requirements/ exported from it for pip)
# of this combination, which the template's scripts/lock resolved for a
# project with the default answers. Only the project's own entry in uv.lock
# differs: its name and version become this project's, normalised as uv
# writes them, and the entry moves to its place among the packages, which uv
# keeps sorted by name. Then `uv lock --check` finds nothing to change.
LOCKS = Path("locks")
locked = LOCKS / f"{ANSWERS['database']}-{BACKGROUND}"
shutil.copytree(locked / "requirements", "requirements", dirs_exist_ok=True)
header, *packages = (
    (locked / "uv.lock").read_text(encoding="utf-8").split("\n[[package]]\n")
)
name = re.sub(r"_+", "-", SLUG)
version = re.sub(r"\d+", lambda digits: str(int(digits[0])), ANSWERS["version"])
packages = [
    re.sub(
        r'\Aname = ".*"\nversion = ".*"\n',
        f'name = "{name}"\nversion = "{version}"\n',
        package,
    )
    if '\nsource = { editable = "." }\n' in package
    else package
    for package in packages
]
packages.sort(key=lambda package: package.split('"', 2)[1])  # name = "..."
Path("uv.lock").write_text(
    "\n[[package]]\n".join([header, *packages]), encoding="utf-8"
)
shutil.rmtree(LOCKS)

# A project rendered again over itself (cookiecutter -f) keeps its secret.
# `cruft update` renders into empty directories and leaves .env out of its
# diff ([tool.cruft] skip in pyproject.toml), so an update never touches it.
# The secret key is readable by its owner only (0600) from the first byte,
# and a file an earlier render left is made so too.
if not Path(".env").exists():
    env_file = os.open(".env", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(env_file, "w") as env:
        env.write(
            "# Local settings, never committed (see .env.example).\n"
            f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        )
os.chmod(".env", 0o600)

print(f"""
Project created in {Path.cwd()}

Next steps:
    cd {Path.cwd().name}
    python3 -m venv .venv && . .venv/bin/activate
    pip install --upgrade pip
    pip install --require-hashes -r requirements/dev.txt    # uv.lock's versions
    pip install --no-deps -e .
    python manage.py migrate
    python manage.py createsuperuser
    python manage.py runserver
    pytest
(or with uv: uv sync --locked, then uv run in front of each python command)
""")
if BACKGROUND == "celery":
    print("""Side effects run on Celery workers: with Redis on localhost:6379, also run
    celery -A config worker
    celery -A config beat
""")
elif BACKGROUND == "django-tasks":
    print("""Side effects run on a task worker, queued in the database: also run
    python manage.py schedule_sweep && python manage.py db_worker
""")
