"""What the hooks accept and refuse, and how free-text answers are normalised.

Timings live in benchmarks/render.py, never in a test.
"""

import ast
import os
import re
import stat
import sys
import tomllib

import pytest
from conftest import TEMPLATE, literal, run

REFUSED_ANSWERS = [
    ("project_slug", "1shop"),  # not an identifier
    ("project_slug", "my-shop"),  # not an identifier
    ("project_slug", "_shop"),  # not a distribution name (pyproject.toml, uv.lock)
    ("project_slug", "shop_"),
    ("project_slug", "class"),  # keyword
    ("project_slug", "django"),  # shadows a module the project imports
    ("project_slug", "test"),
    ("project_slug", "config"),
    ("project_slug", "celery"),
    ("project_slug", "django_tasks_db"),
    ("project_slug", "users"),
    ("project_slug", "os"),
    ("project_slug", "media"),  # a folder the project keeps at its root
    ("email", "nobody"),
    ("email", " you@example.com"),  # only free text is trimmed
    ("version", "1.0 "),
    ("timezone", "Mars/Olympus"),
    ("project_name", "Acme\nShop"),  # a control character other than tab
    ("description", "Sells\rthings"),
    ("author_name", "Bob\x00"),
]


@pytest.mark.parametrize(
    ("field", "value", "others"),
    [(field, value, {}) for field, value in REFUSED_ANSWERS]
    # Empty once trimmed; with a slug given, since none derives from it.
    + [("project_name", " \t ", {"project_slug": "shop"})],
    ids=lambda v: str(v),
)
def test_bad_answer_is_refused_with_one_message_and_nothing_written(
    cookies, capfd, tmp_path, field, value, others
):
    result = cookies.bake(extra_context={field: value, **others})

    assert result.exit_code != 0
    assert result.exception is not None
    output = "\n".join(capfd.readouterr())
    assert "Traceback" not in output, output
    naming_the_field = [line for line in output.splitlines() if field in line]
    assert len(naming_the_field) == 1, output
    # pytest-cookies bakes into <tmp_path>/cookies/bakeNN: nothing may be left there.
    assert [p for p in (tmp_path / "cookies").rglob("*") if p.is_file()] == []
    assert [p for p in (tmp_path / "cookies").glob("*/*")] == []


@pytest.mark.parametrize(
    ("project_name", "slug"),
    [
        ("Café Déjà Vu", "cafe_deja_vu"),
        ("My Shop!", "my_shop"),
        ("Acme Shop", "acme_shop"),
    ],
)
def test_project_slug_is_derived_from_the_project_name(cookies, project_name, slug):
    result = cookies.bake(extra_context={"project_name": project_name})

    assert result.exception is None, result.exception
    assert result.context["project_slug"] == slug
    assert result.project_path.name == slug
    assert (result.project_path / slug / "__init__.py").is_file()


BACKGROUNDS = ["none", "django-tasks", "celery"]


@pytest.mark.parametrize("answer", BACKGROUNDS)
def test_background_accepts_each_choice(cookies, answer):
    result = cookies.bake(extra_context={"background": answer})

    assert result.exception is None, result.exception
    assert result.context["background"] == answer


def test_background_refuses_an_unknown_choice(cookies):
    result = cookies.bake(extra_context={"background": "rq"})

    assert result.exception is not None


@pytest.mark.parametrize("answer", BACKGROUNDS)
def test_background_works_on_the_command_line(tmp_path, cookiecutter_config, answer):
    run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "--config-file",
            cookiecutter_config,
            "--output-dir",
            tmp_path,
            TEMPLATE,
            f"background={answer}",
        ],
        cwd=tmp_path,
    )
    assert (tmp_path / "acme_shop" / "manage.py").is_file()


def imported_modules(source):
    """Top-level names of the absolute imports in a hook's source.

    Jinja tags are dropped first, which keeps the code of every branch.
    """
    code = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", "", source, flags=re.DOTALL)
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module.split(".")[0]


def test_hooks_import_only_the_standard_library():
    """Generation needs no network: the hooks install and import nothing else."""
    hooks = sorted((TEMPLATE / "hooks").glob("*.py"))
    assert hooks
    outside = {
        f"{hook.name}: {module}"
        for hook in hooks
        for module in imported_modules(hook.read_text(encoding="utf-8"))
        if module not in sys.stdlib_module_names
    }
    assert not outside


FREE_TEXT = ("project_name", "description", "author_name")


def test_free_text_answers_are_trimmed_and_tabs_become_spaces(cookies):
    """What people paste (a stray space, a tab) is accepted and cleaned wherever it lands."""
    result = cookies.bake(
        extra_context={
            "project_name": literal("  Acme\tShop "),
            "description": literal("\tSells things\tonline. "),
            "author_name": literal(" Zoë\tO'Brien\t"),
        }
    )

    assert result.exception is None, result.exception
    root = result.project_path
    assert result.context["project_slug"] == "acme_shop"
    assert root.name == "acme_shop"
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["project"]["description"] == "Sells things online."
    assert data["project"]["authors"][0]["name"] == "Zoë O'Brien"
    settings = (root / "config" / "settings" / "base.py").read_text(encoding="utf-8")
    assert 'PROJECT_NAME = "Acme Shop"\n' in settings
    readme = (root / "README.md").read_text(encoding="utf-8").splitlines()
    assert readme[:3] == ["# Acme Shop", "", "Sells things online\\."]
    license_text = (root / "LICENSE").read_text(encoding="utf-8")
    assert ", Zoë O'Brien\n" in license_text
    written = "".join(
        path.read_text(encoding="utf-8")
        for path in (root / "pyproject.toml", root / "LICENSE")
    )
    assert "\t" not in written


def test_every_free_text_answer_lands_through_one_line():
    """A new place that writes project_name, description or author_name must normalise it."""
    pattern = re.compile(
        r"cookiecutter\.(" + "|".join(FREE_TEXT) + r")\b(?! \| one_line)"
    )
    files = [TEMPLATE / "cookiecutter.json"] + [
        path
        for path in (TEMPLATE / "{{cookiecutter.project_slug}}").rglob("*")
        if path.is_file()
    ]
    unnormalised = [
        f"{path.relative_to(TEMPLATE)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(
            path.read_bytes().decode(errors="replace").splitlines(), 1
        )
        if pattern.search(line)
    ]
    assert unnormalised == []


@pytest.fixture
def open_umask():
    """A umask that masks nothing: files get exactly the mode they are created with."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_env_file_is_readable_by_its_owner_only(cookies, open_umask):
    result = cookies.bake()

    assert result.exception is None, result.exception
    env_file = result.project_path / ".env"
    assert "DJANGO_SECRET_KEY=" in env_file.read_text()
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600


def test_rendering_again_keeps_the_secret_and_makes_the_env_file_private(
    render, tmp_path, open_umask
):
    """cookiecutter -f over a project (make demo does it) keeps its .env, made 0600."""
    env_file = render(tmp_path) / ".env"
    env_file.chmod(0o644)
    key = env_file.read_text()
    assert "DJANGO_SECRET_KEY=" in key

    render(tmp_path, overwrite=True)

    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert env_file.read_text() == key
