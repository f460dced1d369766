"""Every generated project comes locked: uv.lock and requirements/ match its pyproject.toml.

The template carries, for each combination, the uv.lock of a project with
the default answers and requirements/ exported from it (scripts/lock writes
them); the post-gen hook gives the lock the project's own name and version.
Each check here is the rendered project's own `make locks` (a step of its
`make check`), run with this suite's interpreter and its uv: `uv lock --check
--offline` (no network, and no cache needed while the lock is current), then
requirements/ against `uv export`. So a template whose pyproject.toml
changed without `scripts/lock` fails here, in the combination it changed.
This repository's own lock (its tooling, which `make` installs) is checked
the same way. Rendering only, but for the production install (slow):
docs/production.md's commands, with uv and with pip, install exactly the
locked versions without the dev group (tests/test_readme_setup.py checks
the README's setups, dev group included).
"""

import re
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import TEMPLATE, clean_environ, combination_params, run
from test_readme_setup import assert_installs_the_locked_versions, base_python, section

UV = Path(sys.executable).parent / "uv"


def offline_environ():
    env = clean_environ()
    # The check is offline; uv must not fetch an interpreter either.
    env.update(UV_OFFLINE="1", UV_PYTHON_DOWNLOADS="never")
    return env


def make_locks(project, check=True):
    env = offline_environ()
    return run(["make", "locks", f"PYTHON={sys.executable}"], project, env, check=check)


def locked_packages(project):
    return tomllib.loads((project / "uv.lock").read_text(encoding="utf-8"))["package"]


def own_entry(project):
    (entry,) = [
        package
        for package in locked_packages(project)
        if package["source"] == {"editable": "."}
    ]
    return entry


@pytest.fixture(params=combination_params())
def combination(request):
    return request.param


def test_every_combination_comes_with_the_lock_of_its_pyproject(
    render, combination, tmp_path
):
    database, background = combination
    project = render(tmp_path, database=database, background=background)

    make_locks(project)
    names = [package["name"] for package in locked_packages(project)]
    assert names == sorted(names), "uv keeps the packages sorted by name"
    assert (own_entry(project)["name"], own_entry(project)["version"]) == (
        "acme-shop",
        "0.1.0",
    )
    # The locks of the other combinations stay in the template.
    assert not (project / "locks").exists()
    assert sorted(path.name for path in (project / "requirements").iterdir()) == [
        "dev.txt",
        "production.txt",
    ]


@pytest.mark.parametrize(
    ("slug", "version", "name", "locked_version"),
    [
        # First and last among the packages, and the longest slug allowed.
        ("a", "2.0", "a", "2.0"),
        ("zz__top_shop", "01.2.0rc03", "zz-top-shop", "1.2.0rc3"),
        ("shop_" * 7 + "order", "10.0.0b1", "shop-" * 7 + "order", "10.0.0b1"),
    ],
)
def test_the_lock_names_the_project_whatever_its_slug_and_version(
    render, tmp_path, slug, version, name, locked_version
):
    assert len(slug) <= 40
    project = render(
        tmp_path, project_slug=slug, version=version, database="postgresql"
    )

    make_locks(project)
    entry = own_entry(project)
    assert (entry["name"], entry["version"]) == (name, locked_version)
    names = [package["name"] for package in locked_packages(project)]
    assert names == sorted(names)


def test_a_stale_lock_fails_the_check(render, tmp_path):
    project = render(tmp_path)
    make_locks(project)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace('"pillow>=12.0",', '"pillow>=12.0",\n    "six>=1.17",'),
        encoding="utf-8",
    )

    failed = make_locks(project, check=False)
    assert failed.returncode != 0
    # It stops at the lock, before comparing requirements/.
    assert "uv lock --check" in failed.stdout
    assert "export" not in failed.stdout


def test_requirements_that_differ_from_the_lock_fail_the_check(render, tmp_path):
    project = render(tmp_path)
    production = project / "requirements" / "production.txt"
    text = production.read_text(encoding="utf-8")
    django = re.search(r"^django==(\S+)", text, re.M)
    assert django, "Django is a production requirement"
    production.write_text(
        text.replace(django.group(0), "django==6.1"), encoding="utf-8"
    )

    failed = make_locks(project, check=False)
    assert failed.returncode != 0
    assert "-django==6.1" in failed.stdout


def test_the_template_installs_its_own_tooling_from_its_lock():
    """uv.lock matches pyproject.toml, and requirements/test.txt (what `make` installs) matches uv.lock."""
    env = offline_environ()
    run([UV, "lock", "--check", "--python", sys.executable], TEMPLATE, env)
    exported = run(
        [UV, "export", "--quiet", "--frozen", "--no-header", "--no-annotate",
         "--no-emit-project", "--only-group", "test"],
        TEMPLATE,
        env,
    ).stdout  # fmt: skip
    assert exported == (TEMPLATE / "requirements" / "test.txt").read_text(
        encoding="utf-8"
    ), "requirements/test.txt differs from uv.lock: run scripts/lock"
    makefile = (TEMPLATE / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet --require-hashes -r requirements/test.txt" in makefile


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["uv", "pip"])
def test_production_installs_the_locked_versions_without_the_dev_group(
    render, tmp_path, tool
):
    """docs/production.md's install command, as written, into a fresh .venv."""
    project = render(tmp_path, database="postgresql", background="celery")
    docs = (project / "docs" / "production.md").read_text(encoding="utf-8")
    block = re.search(
        r"^```sh\n(.*?)^```", section(docs, "Installing, and running on one machine"),
        re.M | re.S,
    ).group(1)  # fmt: skip
    (command,) = [line for line in block.splitlines() if line.startswith(tool)]
    env = clean_environ()
    # uv takes this suite's interpreter, as pip's virtualenv does.
    env.update(UV_PYTHON=base_python(), UV_PYTHON_DOWNLOADS="never")
    if tool == "pip":
        run([base_python(), "-m", "venv", ".venv"], project, env)
        env["PATH"] = f"{project / '.venv' / 'bin'}:{env['PATH']}"
    else:
        (tmp_path / "uv-bin").mkdir()
        (tmp_path / "uv-bin" / "uv").symlink_to(UV)
        env["PATH"] = f"{tmp_path / 'uv-bin'}:{env['PATH']}"
    run(["sh", "-ec", command], project, env)

    assert_installs_the_locked_versions(project, "production.txt")
