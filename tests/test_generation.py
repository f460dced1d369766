"""Every option combination renders a project that lints, checks and passes its own tests.

Tests of one combination share one rendered project (rendered once per xdist
worker, `--dist loadgroup` keeps a combination on one worker).
"""

import json
import re
import shutil
import tomllib

import pytest
from conftest import combination_id, combination_params, mypy_cache


@pytest.fixture(params=combination_params())
def combination(request):
    return request.param


@pytest.fixture
def baked(bake_combination, combination):
    return bake_combination(*combination)


@pytest.fixture
def project(baked, combination, make_project):
    if baked.exception is not None:
        pytest.fail(
            f"rendering {combination} failed: {baked.exception!r}", pytrace=False
        )
    return make_project(baked.project_path, *combination)


def read_env_file(path):
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def is_django_template(relative):
    """Files whose `{{`/`{%` belong to Django, not to cookiecutter."""
    if relative.parts[0] == "app_template":
        return True
    return "templates" in relative.parts[:-1] and relative.suffix in {".html", ".txt"}


def test_combination_renders(baked):
    assert baked.exit_code == 0, baked.exception
    assert baked.exception is None
    assert baked.project_path.is_dir()


def test_no_cookiecutter_reference_is_left_in_any_file(baked):
    leftovers = [
        f"{path.relative_to(baked.project_path)}: in the file name"
        for path in baked.rendered_files
        if "cookiecutter" in str(path.relative_to(baked.project_path))
    ]
    leftovers += [
        f"{path.relative_to(baked.project_path)}:{number}: {line.strip()}"
        for path in baked.rendered_files
        for number, line in enumerate(
            path.read_bytes().decode(errors="replace").splitlines(), 1
        )
        if "cookiecutter." in line
    ]
    assert not leftovers, "\n".join(leftovers)


def test_no_jinja_syntax_is_left_outside_django_templates(baked):
    leftovers = []
    for path in baked.rendered_files:
        relative = path.relative_to(baked.project_path)
        if is_django_template(relative):
            continue
        text = path.read_bytes().decode(errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            # `${{ ... }}` in a GitHub workflow is GitHub's expression syntax.
            line = line.replace("${{", "")
            if "{{" in line or "{%" in line:
                leftovers.append(f"{relative}:{number}: {line.strip()}")
    assert not leftovers, "\n".join(leftovers)


def test_no_empty_directory_or_module_is_left(baked):
    """Files of disabled options are removed whole, with their directories."""
    root = baked.project_path
    empty = [
        path.relative_to(root)
        for path in root.rglob("*")
        if (path.is_dir() and not any(path.iterdir()))
        or (
            path.suffix == ".py"
            and path.name != "__init__.py"
            and not path.read_text().strip()
        )
    ]
    assert not empty


# A variable the project reads: through django-environ in the settings
# (env(), env.int(), ...) or os.environ elsewhere (config/gunicorn.py,
# config/tracing.py).
READS_VARIABLE = re.compile(
    r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|\benviron(?:\.get)?[(\[]\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|["']([A-Z][A-Z0-9_]+)["']\s+in\s+(?:os\.)?environ\b"""
)


def test_env_example_and_configuration_page_list_every_variable_read(baked):
    """docs/configuration.md says `.env.example` lists every variable: keep it so."""
    root = baked.project_path
    read = {}
    # The configuration is read in config/ (the settings, gunicorn, tracing);
    # the apps read settings, and a request's environ is no configuration.
    for path in sorted((root / "config").rglob("*.py")):
        relative = path.relative_to(root)
        for match in READS_VARIABLE.finditer(path.read_text(encoding="utf-8")):
            read.setdefault(match[1] or match[2] or match[3], str(relative))
    example = (root / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, re.M))
    page = (root / "docs" / "configuration.md").read_text(encoding="utf-8")

    # The pattern finds each form: env(), os.environ.get('...'), "..." in os.environ.
    assert {"DJANGO_SECRET_KEY", "PORT", "OTEL_TRACES_SAMPLER"} <= read.keys()
    assert {name: where for name, where in read.items() if name not in listed} == {}
    assert {
        name: where for name, where in read.items() if f"`{name}`" not in page
    } == {}


# ruff, mypy, makemigrations --check, check --deploy and the project's own
# test suite run as the CI workflow's `make check`, in tests/test_readme_setup.py
# (its uv path, with tests/test_ci_workflow.py's run_workflow_steps()).


def test_manage_check_reports_no_issue(project):
    project.py("manage.py", "check", "--fail-level", "WARNING")


def test_import_contracts_hold(project):
    """pyproject.toml's import-linter contracts: the apps import down the layers."""
    result = project.run("lint-imports", "--no-cache")

    assert "0 broken" in result.stdout


@pytest.mark.xdist_group(combination_id("sqlite", "none"))
def test_an_upward_import_breaks_the_layers_contract(
    bake_combination, make_project, tmp_path
):
    baked = bake_combination("sqlite", "none")
    assert baked.exception is None, baked.exception
    # A copy: the rendered project is shared with the other tests.
    copy = tmp_path / baked.project_path.name
    shutil.copytree(baked.project_path, copy)
    services = copy / copy.name / "users" / "services.py"
    services.write_text(services.read_text() + "\nfrom ..pages import views  # noqa\n")

    result = make_project(copy).run("lint-imports", "--no-cache", check=False)

    assert result.returncode != 0
    assert "Apps import down the layers only BROKEN" in result.stdout
    assert f"{copy.name}.users.services -> {copy.name}.pages.views" in result.stdout


# ruff, mypy, makemigrations --check, check --deploy and the project's own
# test suite run as the CI workflow's `make check`, after the README's uv setup,
# in tests/test_readme_setup.py.


def mentions_of(baked, words):
    """Every line and file name of a rendered project that holds one of `words`."""
    root = baked.project_path
    return [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in baked.rendered_files
        for number, line in enumerate(
            path.read_bytes().decode(errors="replace").splitlines(), 1
        )
        if any(word in line.lower() for word in words)
    ] + [
        f"{path.relative_to(root)}: in the file name"
        for path in baked.rendered_files
        if any(word in str(path.relative_to(root)).lower() for word in words)
    ]


def test_celery_is_in_the_project_only_with_background_celery(baked, combination):
    """Without background=celery, not one "celery" anywhere: no module, dependency, setting or doc line."""
    root = baked.project_path
    if combination[1] != "celery":
        assert mentions_of(baked, ["celery"]) == []
        return
    slug = root.name
    for celery_file in (
        "config/celery.py",
        f"{slug}/notifications/tasks.py",
        f"{slug}/notifications/tests/test_tasks.py",
        f"{slug}/users/tasks.py",
        "app_template/tasks.py-tpl",
    ):
        assert (root / celery_file).is_file(), celery_file
    assert "celery" in (root / f"{slug}/notifications/tasks.py").read_text()
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "celery[redis]>=5.6" in data["project"]["dependencies"]


def test_django_tasks_is_in_the_project_only_with_background_django_tasks(
    baked, combination
):
    """Without background=django-tasks, no django-tasks(-db), django_tasks_db or db_worker anywhere."""
    root = baked.project_path
    if combination[1] != "django-tasks":
        assert mentions_of(baked, ["django-tasks", "django_tasks", "db_worker"]) == []
        return
    slug = root.name
    # The django-tasks variants took the plain names; no variant file is left.
    assert not [path for path in baked.rendered_files if ".django-tasks" in path.name]
    for tasks_file in (
        f"{slug}/notifications/tasks.py",
        f"{slug}/notifications/tests/test_tasks.py",
        f"{slug}/users/tasks.py",
        "app_template/tasks.py-tpl",
    ):
        assert "django.tasks" in (root / tasks_file).read_text(), tasks_file
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "django-tasks-db>=0.13" in data["project"]["dependencies"]


# Loads the Celery app the way `celery -A config` does, and prints what
# workers and beat would see.
CELERY_APP = """
import json
from config import celery_app as app
app.loader.import_default_modules()
print(json.dumps({
    "tasks": sorted(name for name in app.tasks if name.startswith("notifications.")),
    "beat": sorted(entry["task"] for entry in app.conf.beat_schedule.values()),
    "eager": app.conf.task_always_eager,
    "acks_late": app.conf.task_acks_late,
    "reject_on_worker_lost": app.conf.task_reject_on_worker_lost,
    "prefetch": app.conf.worker_prefetch_multiplier,
}))
"""


@pytest.mark.parametrize(
    "settings", ["config.settings.local", "config.settings.production"]
)
@pytest.mark.parametrize(
    "combination",
    [param for param in combination_params() if param.values[0][1] == "celery"],
)
def test_celery_app_loads_from_the_project_root_and_never_runs_eagerly(
    project, settings
):
    result = project.py(
        "-c",
        CELERY_APP,
        env={
            "DJANGO_SETTINGS_MODULE": settings,
            "DJANGO_SECRET_KEY": "x" * 50,
            "DJANGO_ALLOWED_HOSTS": "example.com",
            "DJANGO_SITE_URL": "https://example.com",
        },
    )
    assert json.loads(result.stdout) == {
        "tasks": ["notifications.deliver", "notifications.sweep_unsent"],
        "beat": ["notifications.sweep_unsent"],
        "eager": False,
        "acks_late": True,
        "reject_on_worker_lost": True,
        "prefetch": 1,
    }


def test_env_file_holds_a_fresh_secret_key_per_render(cookies):
    first, second = cookies.bake(), cookies.bake()
    assert first.exception is None, first.exception
    assert second.exception is None, second.exception
    first_key = read_env_file(first.project_path / ".env").get("DJANGO_SECRET_KEY", "")
    second_key = read_env_file(second.project_path / ".env").get(
        "DJANGO_SECRET_KEY", ""
    )
    assert len(first_key) >= 50
    assert len(second_key) >= 50
    assert first_key != second_key


def test_env_file_is_git_ignored(cookies):
    result = cookies.bake()
    assert result.exception is None, result.exception
    ignored = (
        (result.project_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    )
    assert {".env", "/.env"} & {line.strip() for line in ignored}


@pytest.mark.xdist_group("pre-commit")
def test_pre_commit_passes_in_a_fresh_git_repository(cookies, make_project, tmp_path):
    result = cookies.bake()
    assert result.exception is None, result.exception
    project = make_project(result.project_path)
    git_env = {
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "Template Tests",
        "GIT_AUTHOR_EMAIL": "tests@example.com",
        "GIT_COMMITTER_NAME": "Template Tests",
        "GIT_COMMITTER_EMAIL": "tests@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        **mypy_cache("pre-commit"),
    }
    project.run("git", "-c", "init.defaultBranch=main", "init", "-q", env=git_env)
    project.run("git", "add", "-A", env=git_env)
    project.run(
        project.venv / "bin" / "pre-commit",
        "run",
        "--all-files",
        "--show-diff-on-failure",
        "--color=never",
        env=git_env,
    )
