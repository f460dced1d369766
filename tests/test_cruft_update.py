"""A generated project follows the template: releases, and `cruft update`.

The update test plays both sides: a copy of the template in a temporary git
repository (the template's next release is a scripted commit on top of it)
and a project created from it with `cruft create`, edited and committed the
way its user would. Until a second release exists, the later template state
is that scripted commit.
"""

import ast
import json
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import TEMPLATE, run

CRUFT = Path(sys.executable).parent / "cruft"
# What the test copies of the template leave out: tooling and build output.
NOT_TEMPLATE = shutil.ignore_patterns(
    ".git", ".venv", "build", "__pycache__", "*.pyc", ".*_cache", ".hypothesis"
)
CONFLICT_MARKER = re.compile(r"^(<{7}|>{7})( |$)", re.MULTILINE)
# Commits by a test identity, untouched by the machine's git configuration
# (signing, hooks, default branch).
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Template test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Template test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def changelog_releases():
    """Versions of CHANGELOG.md's release headings (`## [1.0.0] - date`), newest first."""
    text = (TEMPLATE / "CHANGELOG.md").read_text(encoding="utf-8")
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", text, re.M)


def template_version(project):
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["tool"]["cookiecutter-django-signals"]["template-version"]


def test_project_records_the_newest_release_of_the_changelog(cookies):
    template_json = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    releases = changelog_releases()
    assert releases, "CHANGELOG.md has no release heading"
    assert template_json["_template_version"] == releases[0]

    result = cookies.bake()
    assert result.exception is None, result.exception
    assert template_version(result.project_path) == releases[0]


# --- the update path, end to end --------------------------------------------


def git(*args, cwd):
    return run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV})


def replace_once(path, old, new):
    """Edit a file at an anchor that must be there exactly once."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def append(path, text):
    with path.open("a", encoding="utf-8") as file:
        file.write(text)


def first_receiver_docstring(path):
    """First line of the docstring of the first @receiver function in a module."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and any(
            isinstance(d, ast.Call) and getattr(d.func, "id", "") == "receiver"
            for d in node.decorator_list
        ):
            return ast.get_docstring(node).splitlines()[0]
    raise AssertionError(f"no @receiver function in {path}")


def files_of(project):
    return [
        path
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts
    ]


# The template's next release, as a user would receive it: changes to files
# the user never touches, a new file, a change to a file the user edited (in
# another place), a change to a file this project's options removed, and the
# version it records.
NEXT_RELEASE = "1.0.1"
TEMPLATE_README_LINE = "Template 1.0.1 added this paragraph to the README."
TEMPLATE_ENV_EXAMPLE_LINE = "# NEW_SETTING_FROM_THE_TEMPLATE=1"
TEMPLATE_SETTING = "DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000"
DEBUG_LINE = 'DEBUG = env.bool("DJANGO_DEBUG", default=False)\n'
TEMPLATE_DEBUG_COMMENT = "# Never True in production: debug pages show settings.\n"
TEMPLATE_NEW_FILE = "docs/template-release.md"


def release_next_template_state(template):
    project_dir = template / "{{cookiecutter.project_slug}}"
    append(project_dir / "README.md", f"\n{TEMPLATE_README_LINE}\n")
    append(project_dir / ".env.example", f"{TEMPLATE_ENV_EXAMPLE_LINE}\n")
    (project_dir / TEMPLATE_NEW_FILE).write_text(
        "# A page the next release adds\n", encoding="utf-8"
    )
    settings = project_dir / "config" / "settings" / "base.py"
    # Two lines above the user's ALLOWED_HOSTS: plain patching would reject
    # this hunk (its context holds the user's line); a three-way merge takes it.
    replace_once(settings, DEBUG_LINE, TEMPLATE_DEBUG_COMMENT + DEBUG_LINE)
    # At the end of the settings, far from the user's edits.
    append(
        project_dir / "config" / "settings" / "base.py",
        f"\n# The template's next release adds a setting.\n{TEMPLATE_SETTING}\n",
    )
    # Removed from this project by the hook (background=none): must stay away.
    append(project_dir / "config" / "celery.py", "# Changed in the next release.\n")
    template_json = json.loads((template / "cookiecutter.json").read_text())
    template_json["_template_version"] = NEXT_RELEASE
    (template / "cookiecutter.json").write_text(json.dumps(template_json, indent=2))
    git("add", "-A", cwd=template)
    git("commit", "-q", "-m", f"Release {NEXT_RELEASE}", cwd=template)


@pytest.mark.slow
@pytest.mark.xdist_group("cruft-update")
def test_cruft_update_merges_the_next_template_into_an_edited_project(
    tmp_path, cookiecutter_config, make_project
):
    # The template at its current release, in a git repository of its own.
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=NOT_TEMPLATE)
    git("init", "-q", "-b", "main", cwd=template)
    git("add", "-A", cwd=template)
    git("commit", "-q", "-m", "Release 1.0.0", cwd=template)

    # A project created with cruft (default answers), in its own repository.
    run(
        [
            CRUFT,
            "create",
            "--no-input",
            "--config-file",
            cookiecutter_config,
            "--output-dir",
            tmp_path / "projects",
            template,
        ],
        cwd=tmp_path,
    )
    path = tmp_path / "projects" / "acme_shop"
    project = make_project(path)
    project.env.update(GIT_ENV)
    secret = (path / ".env").read_bytes()
    assert template_version(path) == changelog_releases()[0]
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "Generated by cruft", cwd=path)
    assert ".env" not in git("ls-files", cwd=path).stdout.split()
    project.run(CRUFT, "check")

    # The user's work: a new app, a receiver's docstring (and the page it
    # feeds), a model field with its migration, a setting.
    project.py("manage.py", "newapp", "orders")
    signals = path / "acme_shop" / "users" / "signals.py"
    old_doc = first_receiver_docstring(signals)
    new_doc = "Give each new user a profile right away (the user's own wording)."
    replace_once(signals, old_doc, new_doc)
    doc = project.py("manage.py", "signals", "--format", "markdown").stdout
    (path / "docs" / "signals.md").write_text(doc, encoding="utf-8")
    replace_once(
        path / "acme_shop" / "users" / "models.py",
        "    website = models.URLField(blank=True)\n",
        "    website = models.URLField(blank=True)\n"
        "    nickname = models.CharField(max_length=50, blank=True)\n",
    )
    project.py("manage.py", "makemigrations", "users", "--name", "profile_nickname")
    user_migration = path / "acme_shop" / "users" / "migrations"
    user_migration /= "0002_profile_nickname.py"
    assert user_migration.is_file()
    settings = path / "config" / "settings" / "base.py"
    replace_once(
        settings,
        'default=["localhost", "127.0.0.1"]',
        'default=["localhost", "127.0.0.1", "[::1]"]',
    )
    # What the project's pre-commit hooks would do before the commit.
    project.py("-m", "ruff", "check", "--fix", "--quiet", ".")
    project.py("-m", "ruff", "format", "--quiet", ".")
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "The user's work", cwd=path)
    user_files = {p.relative_to(path): p.read_bytes() for p in files_of(path)}

    # The template moves on; the project sees it and takes the update.
    release_next_template_state(template)
    check = project.run(CRUFT, "check", check=False)
    assert check.returncode != 0, check.stdout
    update = project.run(CRUFT, "update", "--skip-apply-ask")
    output = update.stdout + update.stderr
    # cruft's three-way merge worked: no fallback to patching with rejects.
    assert "Retrying again with a different update strategy" not in output, output
    assert "error:" not in output, output
    project.run(CRUFT, "check")

    # No conflict anywhere, and no file of the project lost.
    files = files_of(path)
    assert [p for p in files if p.suffix in {".rej", ".orig"}] == []
    conflicted = [
        p for p in files if CONFLICT_MARKER.search(p.read_text(errors="replace"))
    ]
    assert conflicted == []
    unmerged = git("diff", "--name-only", "--diff-filter=U", cwd=path).stdout
    assert unmerged == ""
    assert set(user_files) <= {p.relative_to(path) for p in files}

    # .env and its secret are untouched; the option's removed files stay away.
    assert (path / ".env").read_bytes() == secret
    assert not (path / "config" / "celery.py").exists()

    # The user's edits are all there.
    settings_text = settings.read_text(encoding="utf-8")
    assert '"acme_shop.orders",' in settings_text
    assert '"127.0.0.1", "[::1]"]' in settings_text
    assert (path / "acme_shop" / "orders" / "signals.py").is_file()
    assert new_doc in signals.read_text(encoding="utf-8")
    assert new_doc in (path / "docs" / "signals.md").read_text(encoding="utf-8")
    assert user_migration.is_file()
    assert "nickname" in (path / "acme_shop" / "users" / "models.py").read_text()

    # The template's changes are there too.
    assert TEMPLATE_SETTING in settings_text
    assert TEMPLATE_DEBUG_COMMENT + DEBUG_LINE in settings_text
    assert TEMPLATE_README_LINE in (path / "README.md").read_text(encoding="utf-8")
    assert TEMPLATE_ENV_EXAMPLE_LINE in (path / ".env.example").read_text()
    assert (path / TEMPLATE_NEW_FILE).is_file()
    assert template_version(path) == NEXT_RELEASE
    cruft_state = json.loads((path / ".cruft.json").read_text())
    template_head = git("rev-parse", "HEAD", cwd=template).stdout.strip()
    assert cruft_state["commit"] == template_head
    assert cruft_state["context"]["cookiecutter"]["_template_version"] == NEXT_RELEASE

    # And the project still passes its own checks, lint and suite.
    project.py("manage.py", "check", "--fail-level", "WARNING")
    project.py("manage.py", "makemigrations", "--check", "--dry-run")
    project.py("-m", "ruff", "check", "--no-cache", ".")
    project.py("-m", "ruff", "format", "--check", "--no-cache", ".")
    project.py("-m", "pytest", "-q", "-m", "not browser", "-p", "no:cacheprovider")
