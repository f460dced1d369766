import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
    pre_save,
)
from django.test.utils import CaptureQueriesContext
from factory.django import mute_signals

from ...signal_tools.testing import ReceiverCall
from .. import services, signals
from ..models import Profile, User
from ..services import sign_up
from .factories import UserFactory

pytestmark = pytest.mark.django_db

PROJECT_PACKAGE = __name__.split(".")[0]


def writes(queries):
    """The INSERT and UPDATE statements among captured queries, as verbs."""
    verbs = (query["sql"].split()[0].upper() for query in queries)
    return [verb for verb in verbs if verb in {"INSERT", "UPDATE", "DELETE"}]


def test_creating_a_user_creates_exactly_one_profile():
    user = UserFactory()

    assert Profile.objects.filter(user=user).count() == 1
    assert user.profile.display_name == ""


def test_creating_a_user_runs_the_receivers_the_readme_describes_in_order(
    captured_receivers: list[ReceiverCall],
) -> None:
    User.objects.create_user("ada", email="ada@example.com")

    saved = [
        (c.name, c.writes)
        for c in captured_receivers
        # The apps described there; an app added by newapp brings its own.
        if c.name.startswith(("users.", "notifications.", "audit."))
        and c.depth == 0
        and c.signal == "post_save"
    ]
    assert saved == [
        ("users.signals.create_profile", ["INSERT"]),  # the profile
        ("notifications.signals.queue_welcome", ["INSERT"]),  # the outbox row
        ("audit.signals.record_account_changes", []),  # nothing changed yet
    ]


def test_raw_saves_run_the_receivers_and_they_write_nothing(
    captured_receivers: list[ReceiverCall],
) -> None:
    call_command(
        "loaddata", Path(__file__).parent / "fixtures" / "users.json", verbosity=0
    )
    user = UserFactory.build(username="raw")
    User.save_base(user, raw=True)

    ran = [c for c in captured_receivers if c.project]
    assert {c.name for c in ran} >= {
        "users.signals.create_profile",
        "notifications.signals.queue_welcome",
        "audit.signals.record_account_changes",
        "users.signals.remember_old_avatar",
        "users.signals.remove_replaced_avatar",
    }
    assert [(c.name, c.queries) for c in ran if c.queries] == []


def test_signup_writes_three_inserts_and_no_update(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=False),
        CaptureQueriesContext(connection) as queries,
    ):
        sign_up(username="ada", email="ada@example.com", password="s3cret-pass")

    # user, profile, welcome notification; the email itself waits for commit
    assert writes(queries) == ["INSERT", "INSERT", "INSERT"]


def test_saving_an_existing_user_costs_one_query(user):
    user = User.objects.get(pk=user.pk)
    user.first_name = "Ada"

    with CaptureQueriesContext(connection) as queries:
        user.save()

    assert writes(queries) == ["UPDATE"]
    assert len(queries) == 1


def test_reading_users_runs_no_receiver(
    user: User, captured_receivers: list[ReceiverCall]
) -> None:
    # A post_init receiver would run once for every user read; the values a
    # save compares with are remembered by User.from_db() instead.
    assert len(User.objects.all()) == 1
    assert [c.name for c in captured_receivers if c.signal.endswith("_init")] == []


def test_saving_a_user_without_profile_does_not_crash():
    with mute_signals(post_save):  # a legacy row, from before the receiver
        user = UserFactory()
    user = User.objects.get(pk=user.pk)

    user.last_name = "Lovelace"
    user.save()

    assert not Profile.objects.filter(user=user).exists()


def test_the_profile_service_gives_a_user_its_profile_in_one_insert():
    with mute_signals(post_save):  # a legacy row, from before the receiver
        user = UserFactory()

    with CaptureQueriesContext(connection) as queries:
        profile = services.create_profile(user)

    assert writes(queries) == ["INSERT"]
    assert Profile.objects.get(user=user) == profile


def test_fixture_with_raw_saves_loads_without_integrity_error():
    call_command(
        "loaddata", Path(__file__).parent / "fixtures" / "users.json", verbosity=0
    )

    user = User.objects.get(username="fixture")
    assert user.profile.display_name == "From a fixture"
    assert Profile.objects.filter(user=user).count() == 1


def test_ready_twice_connects_nothing_twice():
    """ready() may run more than once (some test runners do it); it must not connect twice."""
    signals_used = [
        post_save,
        pre_save,
        post_delete,
        pre_delete,
        m2m_changed,
        post_init,
    ]
    before = [len(signal.receivers) for signal in signals_used]

    for config in apps.get_app_configs():
        if config.name.startswith(f"{PROJECT_PACKAGE}."):
            config.ready()
            config.ready()

    assert [len(signal.receivers) for signal in signals_used] == before
    user = UserFactory()  # a second create_profile would hit the one-to-one
    assert Profile.objects.filter(user=user).count() == 1


def test_connecting_again_under_the_same_dispatch_uid_is_ignored():
    # What a second import of the module (under another name) would do.
    post_save.connect(
        signals.create_profile,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="users.create_profile",
    )

    user = UserFactory()

    assert Profile.objects.filter(user=user).count() == 1


def test_users_app_does_not_import_notifications():
    users_dir = Path(signals.__file__).parent
    imported = set()
    for path in users_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)

    assert not [name for name in imported if "notifications" in name]


def test_admin_add_user_creates_one_profile(admin_client):
    response = admin_client.post(
        "/admin/users/user/add/",
        {
            "username": "grace",
            "password1": "a-long-enough-pass",
            "password2": "a-long-enough-pass",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content.decode()
    assert Profile.objects.filter(user__username="grace").count() == 1


def test_admin_change_page_shows_the_profile_inline(admin_client, user):
    response = admin_client.get(f"/admin/users/user/{user.pk}/change/")

    assert response.status_code == 200
    assert b"profile-0-display_name" in response.content
