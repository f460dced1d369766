"""`manage.py signals`: the listing, its filters and formats, and --check."""

import gc
import inspect
import json
import weakref
from io import StringIO
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.core.signals import request_started
from django.db.models.signals import post_save
from pytest_django.fixtures import Settings

from ..defers import defers

PROJECT = __name__.split(".")[0]
HERE = __name__


@defers("commit")
def on_user_saved(sender, **kwargs):
    """A plain function with a lazy sender ("users.User")."""


async def on_request_started(sender, **kwargs):
    """An async receiver for any sender."""


class Listener:
    def on_saved(self, sender, **kwargs):
        """A bound method, held through a WeakMethod."""


@pytest.fixture
def connected():
    """One receiver of each kind; disconnected after the test."""
    listener = Listener()
    strong = lambda sender, **kwargs: None  # noqa: E731
    post_save.connect(on_user_saved, sender="users.User", dispatch_uid="tests.saved")
    post_save.connect(listener.on_saved, sender=settings.AUTH_USER_MODEL)
    post_save.connect(strong, sender=settings.AUTH_USER_MODEL, weak=False)
    request_started.connect(on_request_started)
    yield listener
    post_save.disconnect(sender="users.User", dispatch_uid="tests.saved")
    post_save.disconnect(listener.on_saved, sender=settings.AUTH_USER_MODEL)
    post_save.disconnect(strong, sender=settings.AUTH_USER_MODEL)
    request_started.disconnect(on_request_started)


def run(*args):
    out = StringIO()
    call_command("signals", *args, stdout=out)
    return out.getvalue()


def listing(*args):
    return {row["receiver"]: row for row in json.loads(run("--format", "json", *args))}


def test_lists_a_function_with_a_lazy_sender_and_a_dispatch_uid(connected):
    row = listing()[f"{HERE}.on_user_saved"]

    assert row["signal"] == "post_save"
    assert row["sender"] == "users.User"
    assert row["dispatch_uid"] == "tests.saved"
    assert row["file"] == f"{PROJECT}/signal_tools/tests/test_signals_command.py"
    assert row["line"] == inspect.getsourcelines(on_user_saved)[1]
    assert row["is_async"] is False
    assert row["defers"] == ["commit"]
    assert row["description"] == 'A plain function with a lazy sender ("users.User").'
    assert row["app"] == "signal_tools"
    assert row["project"] is True


def test_lists_a_bound_method(connected):
    row = listing()[f"{HERE}.Listener.on_saved"]

    assert row["sender"] == "users.User"
    assert row["dispatch_uid"] is None
    assert row["description"] == "A bound method, held through a WeakMethod."


def test_lists_a_lambda_connected_with_weak_false(connected):
    rows = listing()

    assert f"{HERE}.connected.<locals>.<lambda>" in rows


def test_lists_an_async_receiver_of_any_sender(connected):
    row = listing()[f"{HERE}.on_request_started"]

    assert row["signal"] == "request_started"
    assert row["sender"] == "any"
    assert row["is_async"] is True


def test_skips_a_receiver_whose_weak_reference_died() -> None:
    listener = Listener()
    post_save.connect(listener.on_saved, sender=settings.AUTH_USER_MODEL)
    del listener
    gc.collect()
    dead = [
        entry
        for entry in post_save.receivers
        if isinstance(entry[1], weakref.ref) and entry[1]() is None
    ]
    assert dead, "the dead entry stays in the list until the next send"

    assert f"{HERE}.Listener.on_saved" not in listing()


def test_lists_the_project_receivers_and_djangos() -> None:
    rows = listing()

    welcome = rows[f"{PROJECT}.notifications.signals.queue_welcome"]
    assert welcome["defers"] == ["commit", {% if cookiecutter.background == "none" %}"response"{% else %}"task"{% endif %}]
    assert welcome["dispatch_uid"] == "notifications.queue_welcome"
    last_login = rows["django.contrib.auth.models.update_last_login"]
    assert last_login["signal"] == "user_logged_in"
    assert last_login["project"] is False
    assert last_login["file"] == "django/contrib/auth/models.py"


def test_files_show_the_same_when_the_virtualenv_is_inside_the_project(
    settings: Settings,
) -> None:
    """A `.venv` in the project root: Django's files are still `django/...`."""
    site_packages = Path(django.__file__).parent.parent
    # The project root now holds site-packages, as `python3 -m venv .venv` makes it.
    settings.BASE_DIR = site_packages.parent.parent

    rows = listing()

    last_login = rows["django.contrib.auth.models.update_last_login"]
    assert last_login["file"] == "django/contrib/auth/models.py"


def test_lists_receivers_of_the_projects_own_signals() -> None:
    rows = listing()

    signup = rows[f"{PROJECT}.audit.signals.record_signup"]
    assert signup["signal"] == "users.signals.user_signed_up"
    reset = rows[f"{PROJECT}.notifications.signals.queue_password_reset"]
    assert reset["signal"] == "users.signals.password_reset_requested"
    assert reset["sender"] == "any"
    assert reset["defers"] == ["commit", {% if cookiecutter.background == "none" %}"response"{% else %}"task"{% endif %}]


def test_project_option_leaves_djangos_receivers_out() -> None:
    rows = listing("--project")

    assert f"{PROJECT}.users.signals.create_profile" in rows
    assert all(row["project"] for row in rows.values())


def test_filters_by_signal(connected):
    rows = listing("--signal", "request_started")

    assert f"{HERE}.on_request_started" in rows
    assert {row["signal"] for row in rows.values()} == {"request_started"}


def test_filters_a_project_signal_by_its_short_name() -> None:
    rows = listing("--signal", "user_signed_up")

    assert list(rows) == [f"{PROJECT}.audit.signals.record_signup"]


def test_filters_by_sender(connected):
    rows = listing("--sender", "users.user")

    assert f"{HERE}.on_user_saved" in rows
    assert f"{HERE}.on_request_started" not in rows
    assert {row["sender"] for row in rows.values()} == {"users.User"}
    assert f"{HERE}.on_request_started" in listing("--sender", "any")


def test_filters_by_app() -> None:
    rows = listing("--app", "audit")

    assert rows
    assert {row["app"] for row in rows.values()} == {"audit"}
    assert "django.contrib.auth.models.update_last_login" in listing("--app", "auth")


def test_an_unknown_app_is_an_error() -> None:
    with pytest.raises(CommandError, match="No installed app"):
        run("--app", "nope")


def test_table_shows_one_line_per_receiver_with_file_and_line(connected):
    line = inspect.getsourcelines(on_user_saved)[1]

    output = run("--signal", "post_save", "--sender", "users.User")

    assert output.splitlines()[0].split() == [
        "signal",
        "sender",
        "receiver",
        "where",
        "mode",
        "dispatch_uid",
        "defers",
    ]
    [row] = [text for text in output.splitlines() if "on_user_saved" in text]
    assert row.split() == [
        "post_save",
        "users.User",
        f"{HERE}.on_user_saved",
        f"{PROJECT}/signal_tools/tests/test_signals_command.py:{line}",
        "sync",
        "tests.saved",
        "commit",
    ]


def test_table_says_when_nothing_matches() -> None:
    assert run("--signal", "class_prepared", "--project") == "No receiver matches.\n"


def test_markdown_lists_the_project_receivers_with_their_description(connected):
    output = run("--format", "markdown")

    assert output.startswith("# Signal receivers\n")
    assert (
        f"| post_save | users.User | `{HERE}.on_user_saved` | `tests.saved` | commit "
        '| A plain function with a lazy sender ("users.User"). |'
    ) in output
    assert "update_last_login" not in output
    assert "`bulk_create()`" in output


def test_check_passes_when_the_page_matches(tmp_path, connected):
    page = tmp_path / "signals.md"
    page.write_text(run("--format", "markdown"))

    assert "matches" in run("--check", page)


def test_check_fails_with_a_diff_and_the_command_to_regenerate(tmp_path, connected):
    page = tmp_path / "signals.md"
    page.write_text(run("--format", "markdown"))
    post_save.disconnect(sender="users.User", dispatch_uid="tests.saved")
    errors = StringIO()

    with pytest.raises(CommandError) as error:
        call_command("signals", "--check", page, stdout=StringIO(), stderr=errors)

    assert f"python manage.py signals --format markdown > {page}" in str(error.value)
    diff = errors.getvalue()
    assert diff.startswith(f"--- {page} (committed)\n+++ {page} (from the code)\n")
    assert f"\n-| post_save | users.User | `{HERE}.on_user_saved`" in diff


def test_check_alone_reads_docs_signals_md_in_the_projects_root(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`manage.py signals --check`, as the docs write it, from any directory."""
    settings.BASE_DIR = tmp_path / "project"
    (settings.BASE_DIR / "docs").mkdir(parents=True)
    (settings.BASE_DIR / "docs" / "signals.md").write_text(run("--format", "markdown"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    monkeypatch.chdir(settings.BASE_DIR)
    assert run("--check") == "docs/signals.md matches the receivers in the code.\n"
    monkeypatch.chdir(elsewhere)
    page = (settings.BASE_DIR / "docs" / "signals.md").resolve()
    assert run("--check") == f"{page} matches the receivers in the code.\n"


def test_check_alone_fails_when_the_projects_page_is_out_of_date(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.BASE_DIR = tmp_path
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "signals.md").write_text("# Signal receivers\n")
    monkeypatch.chdir(tmp_path)

    with pytest.raises(CommandError) as error:
        call_command("signals", "--check", stdout=StringIO(), stderr=StringIO())

    assert "docs/signals.md does not match" in str(error.value)
    assert "signals --format markdown > docs/signals.md" in str(error.value)


def test_check_fails_when_the_page_is_missing(tmp_path):
    with pytest.raises(CommandError, match="does not match"):
        call_command("signals", "--check", tmp_path / "nope.md", stderr=StringIO())


def test_check_takes_no_filter(tmp_path):
    with pytest.raises(CommandError, match="no filter"):
        run("--check", tmp_path / "signals.md", "--app", "users")


def boxes(diagram: str) -> dict[str | None, list[str]]:
    """The node lines of a Mermaid flowchart by subgraph title (None: outside any)."""
    found: dict[str | None, list[str]] = {None: []}
    box = None
    for line in diagram.splitlines()[1:]:
        text = line.strip()
        if text.startswith("subgraph "):
            box = text.rpartition("[")[2].rstrip("]")
            found[box] = []
        elif text == "end":
            box = None
        elif "-->" not in text:
            found[box].append(text)
    return found


def test_mermaid_draws_senders_and_receivers_in_their_apps(connected: object) -> None:
    diagram = run("--format", "mermaid")

    assert diagram.startswith("flowchart LR\n")
    assert (
        "    sender_users_User -->|post_save| receiver_users_signals_create_profile\n"
    ) in diagram
    assert (
        "    signal_users_signals_user_signed_up --> receiver_audit_signals_record_signup\n"
    ) in diagram
    found = boxes(diagram)
    assert 'sender_users_User["users.User"]' in found["users"]
    assert 'receiver_users_signals_create_profile("create_profile")' in found["users"]
    assert 'signal_users_signals_user_signed_up(["user_signed_up"])' in found["users"]
    assert 'receiver_audit_signals_record_signup("record_signup")' in found["audit"]
    assert 'signal_user_logged_in(["user_logged_in"])' in found[None]  # Django's
    assert (
        'receiver_signal_tools_tests_test_signals_command_on_user_saved("on_user_saved")'
        in found["signal_tools"]
    )
    assert "update_last_login" not in diagram  # the project's receivers only


def test_markdown_carries_the_diagram_above_the_table() -> None:
    page = run("--format", "markdown")

    diagram = f"```mermaid\n{run('--format', 'mermaid')}```\n"
    assert diagram in page
    assert page.index(diagram) < page.index("| signal | sender | receiver |")


def test_check_fails_when_the_diagram_is_out_of_date(tmp_path: Path) -> None:
    page = tmp_path / "signals.md"
    page.write_text(
        run("--format", "markdown").replace(
            "-->|post_save| receiver_users_signals_create_profile",
            "-->|pre_save| receiver_users_signals_create_profile",
        )
    )

    with pytest.raises(CommandError, match="does not match"):
        call_command("signals", "--check", page, stderr=StringIO())
