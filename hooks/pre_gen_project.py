"""Refuse bad answers before anything is written.

Cookiecutter runs this hook in the freshly created project directory and
deletes that directory when the hook exits non-zero, so a refusal leaves
nothing behind.

A refused answer in an interactive session throws away every answer given so
far, so what can be made right is accepted: free text (the project name,
description and author) may start or end with whitespace and hold tabs,
which the `one_line` filter (answer_filters.py) trims and turns into
spaces wherever the text lands. This hook checks what that filter gives.
"""

import json
import keyword
import re
import sys
import zoneinfo

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

# Names the generated project already uses: packages it imports or defines,
# which the slug would shadow, and folders it keeps at its root (media/,
# staticfiles/, build/), which the package would collide with.
PROJECT_NAMES = {
    "app_template", "audit", "build", "celery", "config", "conftest",
    "django", "django_tasks_db", "docs", "environ", "factory", "importlinter",
    "kombu", "manage", "media", "notifications", "pages", "psycopg", "pytest",
    "redis", "scaffold", "selenium", "signal_tools", "static", "staticfiles",
    "templates", "test", "tests", "users", "web", "whitenoise",
}  # fmt: skip


# Answers the template writes through the `one_line` filter.
FREE_TEXT = ("project_name", "description", "author_name")


def one_line(value):
    """The same normalisation as answer_filters.one_line (hooks import only the stdlib)."""
    return value.replace("\t", " ").strip()


def problem(field, value):
    """Return what is wrong with one answer, or None."""
    if field in FREE_TEXT:
        value = value.replace("\t", " ")
    if re.search(r"[\x00-\x1f\x7f]", value):
        return "must be a single line without control characters"
    if field in FREE_TEXT:
        value = one_line(value)
    if value != value.strip():
        return "must not start or end with whitespace"
    if field == "project_slug":
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", value):
            return "must be a Python identifier: lowercase letters, digits, _"
        # It is the distribution's name too (pyproject.toml, uv.lock), which
        # starts and ends with a letter or digit.
        if value.startswith("_") or value.endswith("_"):
            return "must start with a letter and end with a letter or digit"
        if len(value) > 40:
            return "must be at most 40 characters"
        if keyword.iskeyword(value):
            return "is a Python keyword"
        if value in sys.stdlib_module_names or value in PROJECT_NAMES:
            return "is a name the project already uses (a module or a folder)"
    if field == "project_name" and not value:
        return "must not be empty"
    if field == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
        return "must be an email address such as you@example.com"
    if field == "version" and not re.fullmatch(r"\d+(\.\d+)*((a|b|rc)\d+)?", value):
        return "must be a version such as 0.1.0"
    if field == "timezone":
        try:
            zoneinfo.ZoneInfo(value)
        except (ValueError, zoneinfo.ZoneInfoNotFoundError):
            return "is not a known time zone (an IANA name such as Europe/Paris)"
    return None


FIELDS = ("project_name", "project_slug", "description", "author_name", "email")
for field in (*FIELDS, "version", "timezone"):
    value = ANSWERS[field]
    if reason := problem(field, value):
        print(f"ERROR: {field} {value!r} {reason}.", file=sys.stderr)
        sys.exit(1)
