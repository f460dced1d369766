"""A generated project follows the template: releases, and `cruft update`.

The update tests play both sides: the template as this checkout holds it
(uncommitted work included), committed on top of a clone of its own history,
and a project created from it with `cruft create`, edited and committed the
way its user would. Projects start at each real release (its commit in
RELEASE_COMMITS) and update to this template; another starts here and
updates to a scripted next release, one that also adds a Jinja filter.
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
from conftest import (
    TEMPLATE,
    create_venv,
    mypy_cache,
    run,
    unavailable,
    venv_environ,
)

CRUFT = Path(sys.executable).parent / "cruft"
FIRST_RELEASE = "1.0.0"
# Each earlier release, as users got it: 1.0.0 is the commit that added its
# CHANGELOG heading; 2.0.0 is the commit main held when the release landed
# (its heading came in earlier, with work still to follow). A release adds
# its predecessor here.
RELEASE_COMMITS = {
    "1.0.0": "7c32272cc6f81f7c76330e874962a771cd9cf7ad",
    "2.0.0": "9051a569ac887e0bcac2279f43f8802ce3bad249",
}
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


def has_history():
    """Whether this checkout holds the template's whole git history."""
    inside = run(["git", "rev-parse", "--is-shallow-repository"], TEMPLATE, check=False)
    return inside.returncode == 0 and inside.stdout.strip() == "false"


def current_template(tmp_path):
    """This checkout's template, uncommitted work included, as the newest commit.

    With the history (a clone of this checkout's), the real releases are
    there to check out; without it (an unpacked archive), one commit.
    """
    template = tmp_path / "template"
    if has_history():
        git("clone", "-q", "--no-local", TEMPLATE, template, cwd=tmp_path)
        # The working tree as it is: deleted files gone, new ones added.
        for path in template.iterdir():
            if path.name != ".git":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    else:
        template.mkdir()
        git("init", "-q", "-b", "main", cwd=template)
    shutil.copytree(TEMPLATE, template, ignore=NOT_TEMPLATE, dirs_exist_ok=True)
    git("add", "-A", cwd=template)
    git("commit", "-q", "--allow-empty", "-m", "The template under test", cwd=template)
    return template


def release_commit(template, version):
    """The commit of an earlier release (RELEASE_COMMITS), checked against its files."""
    if not has_history():
        unavailable(
            f"the template's git history is missing, so {version} cannot be "
            "checked out: test a full clone (actions/checkout: fetch-depth: 0)"
        )
    commit = RELEASE_COMMITS[version]
    released = json.loads(
        git("show", f"{commit}:cookiecutter.json", cwd=template).stdout
    )
    assert released["_template_version"] == version, commit
    changelog = git("show", f"{commit}:CHANGELOG.md", cwd=template).stdout
    assert f"## [{version}] - " in changelog, commit
    return commit


def test_every_earlier_release_has_its_commit():
    """Each release of CHANGELOG.md but the newest is one that projects update from."""
    releases = changelog_releases()
    assert set(releases[1:]) <= set(RELEASE_COMMITS) <= set(releases)
    for version in RELEASE_COMMITS:
        release_commit(TEMPLATE, version)


def create_project(tmp_path, template, cookiecutter_config, make_project, *checkout):
    """A project created by cruft (default answers), committed in its own repository."""
    run(
        [
            CRUFT,
            "create",
            "--no-input",
            *checkout,
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
    git("init", "-q", "-b", "main", cwd=path)
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "Generated by cruft", cwd=path)
    assert ".env" not in git("ls-files", cwd=path).stdout.split()
    return project


NEW_DOC = "Note each new user in the orders log (the user's own wording)."


def make_user_edits(project):
    """The user's work: a new app, its receiver's docstring (and the page it
    feeds), a model field with its migration, a setting. Committed.

    The receiver is the user's own: a docstring edited in a template app's
    receiver meets whatever a release does to that receiver (from 1.0.0, a
    typed signature on the line above it: a conflict by any merge).
    """
    path = project.path
    project.py("manage.py", "newapp", "orders")
    signals = path / "acme_shop" / "orders" / "signals.py"
    replace_once(signals, first_receiver_docstring(signals), NEW_DOC)
    doc = project.py("manage.py", "signals", "--format", "markdown").stdout
    (path / "docs" / "signals.md").write_text(doc, encoding="utf-8")
    replace_once(
        path / "acme_shop" / "users" / "models.py",
        "    website = models.URLField(blank=True)\n",
        "    website = models.URLField(blank=True)\n"
        "    nickname = models.CharField(max_length=50, blank=True)\n",
    )
    project.py("manage.py", "makemigrations", "users", "--name", "profile_nickname")
    nickname_migration(path)
    replace_once(
        path / "config" / "settings" / "base.py",
        'default=["localhost", "127.0.0.1"]',
        'default=["localhost", "127.0.0.1", "[::1]"]',
    )
    # What the project's pre-commit hooks would do before the commit.
    project.py("-m", "ruff", "check", "--fix", "--quiet", ".")
    project.py("-m", "ruff", "format", "--quiet", ".")
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", "The user's work", cwd=path)


def nickname_migration(path):
    """The user's migration, numbered after the users migrations of its release."""
    (migration,) = (path / "acme_shop" / "users" / "migrations").glob(
        "*_profile_nickname.py"
    )
    return migration.relative_to(path)


def conflicts(path):
    """Each rejected hunk and each conflicted region, with its file: what failed to merge."""
    report = []
    for file in files_of(path):
        name = file.relative_to(path)
        text = file.read_text(encoding="utf-8", errors="replace")
        if file.suffix in {".rej", ".orig"}:
            report.append(f"--- {name} ---\n{text}")
        elif CONFLICT_MARKER.search(text):
            lines = text.splitlines()
            starts = [i for i, line in enumerate(lines) if line.startswith("<" * 7)]
            for start in starts:
                end = next(
                    (
                        i
                        for i in range(start, len(lines))
                        if lines[i].startswith(">" * 7)
                    ),
                    len(lines) - 1,
                )
                hunk = "\n".join(lines[max(start - 3, 0) : end + 4])
                report.append(f"--- {name}, line {start + 1} ---\n{hunk}")
    unmerged = git("diff", "--name-only", "--diff-filter=U", cwd=path).stdout.split()
    report.extend(f"--- {name}: unmerged in git ---" for name in unmerged)
    return "\n".join(report)


# The README's signal diagram, one block.
MERMAID_BLOCK = re.compile(r"^```mermaid\n.*?^```\n", re.MULTILINE | re.DOTALL)
# Step 1 of 2.0.0's "Action needed", the line as 2.0.0 ships it.
SKIP_FROM_2_0_0 = 'skip = [".env", "docs/signals.md"]'


def update_and_check_merge(project, template, user_files, secret):
    """`cruft update` to the template's newest commit: a clean three-way merge
    that keeps the user's edits and .env. Returns the new settings' text."""
    path = project.path
    check = project.run(CRUFT, "check", check=False)
    assert check.returncode != 0, check.stdout
    update = project.run(CRUFT, "update", "--skip-apply-ask", check=False)
    output = update.stdout + update.stderr
    report = conflicts(path)
    assert update.returncode == 0 and not report, f"{output}\n{report}"
    # cruft's three-way merge worked: no fallback to patching with rejects.
    assert "Retrying again with a different update strategy" not in output, output
    assert "error:" not in output, output
    project.run(CRUFT, "check")
    cruft_state = json.loads((path / ".cruft.json").read_text())
    template_head = git("rev-parse", "HEAD", cwd=template).stdout.strip()
    assert cruft_state["commit"] == template_head

    # No file of the user's lost; .env and its secret untouched; the
    # option's removed files stay away.
    assert set(user_files) <= {p.relative_to(path) for p in files_of(path)}
    assert (path / ".env").read_bytes() == secret
    assert not (path / "config" / "celery.py").exists()

    # The user's edits are all there.
    settings_text = (path / "config" / "settings" / "base.py").read_text()
    assert '"acme_shop.orders",' in settings_text
    assert '"127.0.0.1", "[::1]"]' in settings_text
    assert (path / "acme_shop" / "orders" / "signals.py").is_file()
    assert NEW_DOC in (path / "acme_shop" / "orders" / "signals.py").read_text()
    assert NEW_DOC in (path / "docs" / "signals.md").read_text(encoding="utf-8")
    migration = nickname_migration(path)
    assert (path / migration).read_bytes() == user_files[migration]
    assert "nickname" in (path / "acme_shop" / "users" / "models.py").read_text()
    return settings_text


def make_check(project, cache):
    """The project's own `make check`: lint, types, migrations, signals, deploy, tests."""
    project.run("make", "check", f"PYTHON={project.python}", env=mypy_cache(cache))


def user_files_of(path):
    """The files the user added or changed since the project was generated.

    The update may remove a file the template no longer has (2.0.0 removes
    `core/`), never one of these.
    """
    generated = git("rev-list", "--max-parents=0", "HEAD", cwd=path).stdout.strip()
    changed = git(
        "diff", "--name-only", "--diff-filter=AM", generated, "HEAD", cwd=path
    ).stdout.split()
    assert changed, "the user's work is not committed"
    return {Path(name): (path / name).read_bytes() for name in changed}


# --- from the real first release to this template ---------------------------

# The users the 1.0.0 project holds before the update, and one profile's
# nickname (the user's own field): all must survive the update's migrations,
# and stay active (a signup's account now waits for its address to be
# confirmed; accounts of earlier releases do not).
MAKE_USERS = """
from django.contrib.auth import get_user_model
User = get_user_model()
for name in ("ada", "grace", "linus"):
    User.objects.create_user(name, f"{name}@example.com", "a long passphrase 1")
profile = User.objects.get(username="ada").profile
profile.nickname = "Countess"
profile.save()
"""
READ_USERS = """
import json
from django.contrib.auth import get_user_model
print(json.dumps(sorted(
    (user.username, user.email, user.profile.nickname, user.is_active)
    for user in get_user_model().objects.select_related("profile")
)))
"""


def annotate_first_release_app(app):
    """Type hints where mypy asks for them in an app made by 1.0.0's newapp."""
    replace_once(app / "apps.py", "def ready(self):", "def ready(self) -> None:")
    signals = app / "signals.py"
    replace_once(
        signals,
        "from django.dispatch import receiver\n",
        "from django.dispatch import receiver\n\nfrom ..users.models import User\n",
    )
    replace_once(
        signals,
        "def on_user_created(sender, instance, created, raw, **kwargs):",
        "def on_user_created(\n"
        "    sender: type[User], instance: User, created: bool, raw: bool, **kwargs: object\n"
        ") -> None:",
    )


def users_of(project):
    output = project.py("manage.py", "shell", "-c", READ_USERS).stdout
    # The last line: the shell may first say what it imported.
    return json.loads(output.splitlines()[-1])


USERS = [
    ["ada", "ada@example.com", "Countess", True],
    ["grace", "grace@example.com", "", True],
    ["linus", "linus@example.com", "", True],
]


@pytest.mark.slow
@pytest.mark.xdist_group("cruft-update")
def test_cruft_update_from_the_real_first_release(
    tmp_path, cookiecutter_config, make_project
):
    template = current_template(tmp_path)
    first_release = release_commit(template, FIRST_RELEASE)
    project = create_project(
        tmp_path,
        template,
        cookiecutter_config,
        make_project,
        "--checkout",
        first_release,
    )
    # Its user's own virtualenv, made as its README says, with the
    # dependencies of 1.0.0. Not the shared venv: the update installs the
    # new release's dependencies into it, over those of 1.0.0.
    user_venv = create_venv(tmp_path / "user-venv").parent.parent
    project.venv = user_venv
    project.env.update(venv_environ(user_venv))
    project.py("-m", "pip", "install", "--quiet", "--group", "dev", "-e", ".")
    path = project.path
    secret = (path / ".env").read_bytes()
    assert template_version(path) == FIRST_RELEASE

    # The user's work, on a database with users in it (SQLite, the default
    # answer: db.sqlite3 in the project, ignored by git).
    make_user_edits(project)
    project.py("manage.py", "migrate", "--no-input")
    project.py("manage.py", "shell", "-c", MAKE_USERS)
    assert users_of(project) == USERS
    assert git("status", "--porcelain", cwd=path).stdout == ""

    # CHANGELOG's "Action needed" for a project made from 1.0.0, no more.
    # 1. docs/signals.md joins [tool.cruft] skip, committed; then the update.
    replace_once(path / "pyproject.toml", 'skip = [".env"]', SKIP_FROM_2_0_0)
    git("commit", "-q", "-am", "Skip docs/signals.md in updates", cwd=path)
    user_files = user_files_of(path)
    update_and_check_merge(project, template, user_files, secret)
    assert template_version(path) == changelog_releases()[0]

    # 2. Install the dependencies again, from the lock (the README's pip
    # setup), then lock again for this project and commit.
    install_locked(project)
    project.py("-m", "pip", "install", "--quiet", "--no-deps", "-e", ".")
    lock_for_the_project(project)
    # (3, imports from core, finds none here.)
    # 4. Annotate the app that 1.0.0's newapp made: mypy checks it now.
    annotate_first_release_app(path / "acme_shop" / "orders")
    # 5. Merge the user's users migration with the release's, formatted.
    # 6. Apply the migrations to the database that 1.0.0 migrated.
    # 7. Write docs/signals.md again: its diagram lists the user's app; and
    # paste the diagram into the README's mermaid block.
    # 8. make check, with the users and profiles of 1.0.0 kept.
    merge_migrate_document_and_check(project, "cruft-update-first-release")


def install_locked(project):
    """The dependencies at the versions of the project's lock, hash-checked (its README's pip setup)."""
    project.py(
        "-m", "pip", "install", "--quiet", "--require-hashes",
        "-r", "requirements/dev.txt",
    )  # fmt: skip


def lock_for_the_project(project):
    """`make lock` (it asks PyPI) for the project's own name and dependencies, committed."""
    project.run("make", "lock", f"PYTHON={project.python}")
    git("add", "-A", cwd=project.path)
    git("commit", "-q", "-m", "Locked for this project", cwd=project.path)


def readme_venv(project, tmp_path):
    """The user's own virtualenv, set up as the project's README says (pip,
    from the lock), not the shared one: the update installs the new
    release's dependencies into it."""
    user_venv = create_venv(tmp_path / "user-venv").parent.parent
    project.venv = user_venv
    project.env.update(venv_environ(user_venv))
    install_locked(project)
    project.py("-m", "pip", "install", "--quiet", "--no-deps", "-e", ".")


def write_signal_docs(project):
    """docs/signals.md and the README's diagram, written again from the receivers."""
    path = project.path
    doc = project.py("manage.py", "signals", "--format", "markdown").stdout
    (path / "docs" / "signals.md").write_text(doc, encoding="utf-8")
    diagram = project.py("manage.py", "signals", "--format", "mermaid").stdout
    readme = path / "README.md"
    readme.write_text(
        MERMAID_BLOCK.sub(
            lambda _: f"```mermaid\n{diagram}```\n", readme.read_text(encoding="utf-8")
        ),
        encoding="utf-8",
    )


def merge_migrate_document_and_check(project, cache):
    """The last steps of the "Action needed" of 1.0.0 and of 2.0.0 alike."""
    # Merge the user's users migration with the release's, formatted.
    project.py("manage.py", "makemigrations", "--merge", "--no-input")
    project.py("-m", "ruff", "format", ".")
    # Apply the release's migrations to the database the project migrated.
    project.py("manage.py", "migrate", "--no-input")
    write_signal_docs(project)
    # make check, with the users and profiles of the old release kept.
    assert users_of(project) == USERS
    make_check(project, cache)


@pytest.mark.slow
@pytest.mark.xdist_group("cruft-update-2")
def test_cruft_update_from_the_real_2_0_0(tmp_path, cookiecutter_config, make_project):
    template = current_template(tmp_path)
    release = release_commit(template, "2.0.0")
    project = create_project(
        tmp_path, template, cookiecutter_config, make_project, "--checkout", release
    )
    readme_venv(project, tmp_path)
    path = project.path
    secret = (path / ".env").read_bytes()
    assert template_version(path) == "2.0.0"
    make_user_edits(project)
    project.py("manage.py", "migrate", "--no-input")
    project.py("manage.py", "shell", "-c", MAKE_USERS)
    assert users_of(project) == USERS
    assert git("status", "--porcelain", cwd=path).stdout == ""

    # CHANGELOG's "Action needed" for a project made from 2.0.0, no more.
    # 1. The update.
    user_files = user_files_of(path)
    update_and_check_merge(project, template, user_files, secret)
    assert template_version(path) == changelog_releases()[0]
    # 2. Install the dependencies again from the lock; lock for this project.
    install_locked(project)
    lock_for_the_project(project)
    # 3. Merge the user's users migration with the release's, formatted.
    # 4. Apply the release's migrations.
    # 5. Write docs/signals.md and the README's diagram again.
    # 6. make check, with the users and profiles of 2.0.0 kept.
    merge_migrate_document_and_check(project, "cruft-update-2.0.0")


@pytest.mark.parametrize("version", sorted(RELEASE_COMMITS))
def test_migrations_of_each_release_are_unchanged(version):
    """From 1.0.0 on, migrations are append-only: a project that ran them takes the update.

    A migration edited after its release never runs again on a database
    that applied it (1.0.0's `0001_initial` gained a column after the
    release once, and such a database never got it).
    """
    commit = release_commit(TEMPLATE, version)
    released = git(
        "ls-tree",
        "-r",
        "--name-only",
        commit,
        "--",
        "{{cookiecutter.project_slug}}",
        cwd=TEMPLATE,
    ).stdout.split("\n")
    migrations = [name for name in released if "/migrations/0" in name]
    assert migrations, f"no migration in {commit}"
    for name in migrations:
        shipped = git("show", f"{commit}:{name}", cwd=TEMPLATE).stdout
        current = TEMPLATE / name
        assert current.is_file(), f"{name} of {version} was deleted"
        assert current.read_text(encoding="utf-8") == shipped, (
            f"{name} changed since {version}: add a migration instead"
        )


# --- from this template to its next release, scripted -----------------------

# The template's next release, as a user would receive it: changes to files
# the user never touches, a new file, a change to a file the user edited (in
# another place), a change to a file this project's options removed, a new
# Jinja filter that a changed file uses (cruft renders both releases in one
# process: the new release's filters must be the ones loaded), and the
# version it records.
TEMPLATE_README_LINE = "Template {version} added this paragraph to the README."
TEMPLATE_ENV_EXAMPLE_LINE = "# NEW_SETTING_FROM_THE_TEMPLATE=1"
TEMPLATE_SETTING = "DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000"
DEBUG_LINE = 'DEBUG = env.bool("DJANGO_DEBUG", default=False)\n'
TEMPLATE_DEBUG_COMMENT = "# Never True in production: debug pages show settings.\n"
TEMPLATE_NEW_FILE = "docs/template-release.md"


def next_release(version):
    major, minor, _ = map(int, version.split("."))
    return f"{major}.{minor + 1}.0"


def release_next_template_state(template, version):
    project_dir = template / "{{cookiecutter.project_slug}}"
    replace_once(
        template / "answer_filters.py",
        "        environment.filters.update(\n",
        "        environment.filters.update(\n            shout=str.upper,\n",
    )
    line = TEMPLATE_README_LINE.format(version=version)
    append(project_dir / "README.md", f"\n{{{{ {line!r} | shout }}}}\n")
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
        settings,
        f"\n# The template's next release adds a setting.\n{TEMPLATE_SETTING}\n",
    )
    # Removed from this project by the hook (background=none): must stay away.
    append(project_dir / "config" / "celery.py", "# Changed in the next release.\n")
    template_json = json.loads((template / "cookiecutter.json").read_text())
    template_json["_template_version"] = version
    (template / "cookiecutter.json").write_text(json.dumps(template_json, indent=2))
    git("add", "-A", cwd=template)
    git("commit", "-q", "-m", f"Release {version}", cwd=template)


@pytest.mark.slow
@pytest.mark.xdist_group("cruft-update")
def test_cruft_update_merges_the_next_template_into_an_edited_project(
    tmp_path, cookiecutter_config, make_project
):
    template = current_template(tmp_path)
    project = create_project(tmp_path, template, cookiecutter_config, make_project)
    path = project.path
    secret = (path / ".env").read_bytes()
    newest = changelog_releases()[0]
    assert template_version(path) == newest
    project.run(CRUFT, "check")
    make_user_edits(project)
    user_files = user_files_of(path)

    # The template moves on; the project sees it and takes the update.
    version = next_release(newest)
    release_next_template_state(template, version)
    settings_text = update_and_check_merge(project, template, user_files, secret)

    # The template's changes are there too, the new filter's output included.
    assert TEMPLATE_SETTING in settings_text
    assert TEMPLATE_DEBUG_COMMENT + DEBUG_LINE in settings_text
    readme = (path / "README.md").read_text(encoding="utf-8")
    assert TEMPLATE_README_LINE.format(version=version).upper() in readme
    assert TEMPLATE_ENV_EXAMPLE_LINE in (path / ".env.example").read_text()
    assert (path / TEMPLATE_NEW_FILE).is_file()
    assert template_version(path) == version
    cruft_state = json.loads((path / ".cruft.json").read_text())
    assert cruft_state["context"]["cookiecutter"]["_template_version"] == version

    # And the project still passes its own checks, lint and suite.
    make_check(project, "cruft-update-next-release")
