"""`manage.py newapp` in a rendered project: the new app is wired and its tests pass."""

import pytest
from conftest import mypy_cache


@pytest.fixture
def project(cookies, make_project, request):
    background = getattr(request, "param", "none")
    result = cookies.bake(extra_context={"background": background})
    assert result.exception is None, result.exception
    return make_project(result.project_path, background=background).with_services()


def tree(path):
    """Every file and its bytes, but the SQLite file that Django's system
    checks create on start-up (JSONField asks the database what it supports)."""
    return sorted(
        (str(p.relative_to(path)), p.read_bytes() if p.is_file() else b"")
        for p in path.rglob("*")
        if "__pycache__" not in p.parts and p.name != "db.sqlite3"
    )


@pytest.mark.slow
@pytest.mark.parametrize("project", ["none", "django-tasks", "celery"], indirect=True)
def test_newapp_gives_an_app_whose_tests_lint_and_checks_pass(project):
    result = project.py("manage.py", "newapp", "orders")

    app = project.path / "acme_shop" / "orders"
    assert "Added acme_shop.orders to LOCAL_APPS" in result.stdout
    assert {p.name for p in app.iterdir()} >= {"apps.py", "signals.py", "tests"}
    assert (app / "tasks.py").exists() == (project.background != "none")
    runner = {
        "django-tasks": "from django.tasks import",
        "celery": "from celery import",
    }
    if project.background in runner:
        assert runner[project.background] in (app / "tasks.py").read_text()
    assert (
        '"acme_shop.orders",'
        in (project.path / "config" / "settings" / "base.py").read_text()
    )
    assert (
        "acme_shop.orders.signals.on_user_created"
        in (project.path / "docs" / "signals.md").read_text()
    )
    # The README's diagram too (the project's suite below checks it in full).
    assert "Updated the signal diagram in README.md" in result.stdout
    assert "receiver_orders_signals_on_user_created" in (
        project.path / "README.md"
    ).read_text(encoding="utf-8")
    project.py("manage.py", "check", "--fail-level", "WARNING")
    project.py("-m", "ruff", "check", "--no-cache", ".")
    project.py("-m", "ruff", "format", "--check", "--no-cache", ".")
    # The new app's code is typed like the rest: mypy passes with it.
    project.py("-m", "mypy", env=mypy_cache(f"newapp-{project.background}"))
    # The new app fits the import contracts (it imports signal_tools' defers).
    project.run("lint-imports", "--no-cache")
    project.py("-m", "pytest", "-q", "-m", "not browser")
    orders = project.py("-m", "pytest", "-q", "acme_shop/orders").stdout
    assert " passed" in orders and "failed" not in orders, orders


@pytest.mark.slow
def test_a_receiver_added_later_fails_the_docs_check_until_regenerated(project):
    project.py("manage.py", "newapp", "orders")
    signals = project.path / "acme_shop" / "orders" / "signals.py"
    signals.write_text(
        signals.read_text()
        + '''

@receiver(post_save, sender="users.Profile", dispatch_uid="orders.on_profile_saved")
def on_profile_saved(sender, instance, raw, **kwargs):
    """Do nothing yet: a receiver the user adds after newapp."""
'''
    )

    failed = project.py(
        "manage.py", "signals", "--check", "docs/signals.md", check=False
    )
    assert failed.returncode != 0
    assert "on_profile_saved" in failed.stdout + failed.stderr
    assert "signals --format markdown" in failed.stdout + failed.stderr

    regenerated = project.py("manage.py", "signals", "--format", "markdown")
    (project.path / "docs" / "signals.md").write_text(regenerated.stdout)
    project.py("manage.py", "signals", "--check", "docs/signals.md")


@pytest.mark.parametrize("name", ["Orders", "users", "json", "class"])
def test_a_bad_name_is_refused_and_nothing_is_written(project, name):
    before = tree(project.path)

    result = project.py("manage.py", "newapp", name, check=False)

    assert result.returncode != 0
    assert "CommandError" in result.stderr
    assert tree(project.path) == before


def test_newapp_twice_refuses_the_second(project):
    project.py("manage.py", "newapp", "orders")
    before = tree(project.path)

    result = project.py("manage.py", "newapp", "orders", check=False)

    assert result.returncode != 0
    assert 'An app named "orders" already exists' in result.stderr
    assert tree(project.path) == before
