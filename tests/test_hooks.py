"""What the hooks accept, refuse and cost."""

import ast
import json
import re
import subprocess
import sys
import time

import pytest
from conftest import TEMPLATE, run

REFUSED_ANSWERS = [
    ("project_slug", "1shop"),  # not an identifier
    ("project_slug", "my-shop"),  # not an identifier
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
    ("timezone", "Mars/Olympus"),
]


@pytest.mark.parametrize(("field", "value"), REFUSED_ANSWERS, ids=lambda v: str(v))
def test_bad_answer_is_refused_with_one_message_and_nothing_written(
    cookies, capfd, tmp_path, field, value
):
    result = cookies.bake(extra_context={field: value})

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


def fastest_render(template, output_dir, config_file, runs=3):
    """The best of a few wall-clock timings of `cookiecutter --no-input` (a new process)."""
    timings = []
    for number in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "cookiecutter",
                "--no-input",
                "--config-file",
                str(config_file),
                "--output-dir",
                str(output_dir / str(number)),
                str(template),
            ],
            check=True,
            capture_output=True,
        )
        timings.append(time.perf_counter() - start)
    return min(timings)


@pytest.mark.xdist_group("timing")
def test_generation_costs_little_more_than_a_one_file_template(
    tmp_path, cookiecutter_config
):
    floor_template = tmp_path / "one-file-template"
    (floor_template / "{{cookiecutter.project_slug}}").mkdir(parents=True)
    (floor_template / "cookiecutter.json").write_text(
        json.dumps({"project_slug": "floor"})
    )
    (floor_template / "{{cookiecutter.project_slug}}" / "README.md").write_text(
        "floor\n"
    )

    floor = fastest_render(floor_template, tmp_path / "floor", cookiecutter_config)
    ours = fastest_render(TEMPLATE, tmp_path / "ours", cookiecutter_config)

    # Generous: two hook processes and a few dozen files, on a shared machine.
    assert ours < 2 * floor + 1.5, (
        f"template {ours:.2f}s vs one-file template {floor:.2f}s"
    )
