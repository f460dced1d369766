"""Email and username changes: recorded in the save's transaction, at no extra query."""

import inspect

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from factory.django import mute_signals

from ...notifications.models import Notification
from ...users.models import Profile, User
from ...users.tests.factories import UserFactory
from ..models import AuditEvent
from ..signals import record_account_changes

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def loaded(user):
    """The user as a view would have it: fresh from the database."""
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(
    ("field", "new", "action"),
    [
        ("email", "new@example.com", Action.EMAIL_CHANGED),
        ("username", "ada", Action.USERNAME_CHANGED),
    ],
)
def test_an_email_or_username_change_is_recorded_with_both_values(
    user, field, new, action
):
    old = getattr(user, field)
    user = loaded(user)

    setattr(user, field, new)
    user.save()

    [event] = AuditEvent.objects.all()
    assert event.action == action
    assert event.changes == {field: {"from": old, "to": new}}
    assert (event.target_type, event.target_id) == ("users.User", str(user.pk))
    assert event.target_repr == user.username
    assert event.actor is None  # a save does not say who called it


def test_both_changes_in_one_save_give_two_entries_in_one_insert(user):
    user = loaded(user)
    user.email, user.username = "new@example.com", "ada"

    with CaptureQueriesContext(connection) as queries:
        user.save()

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert actions == {Action.EMAIL_CHANGED, Action.USERNAME_CHANGED}
    assert [q["sql"].split()[0] for q in queries] == ["UPDATE", "INSERT"]


def test_the_receivers_entry_in_signals_md_names_every_change_it_records(user):
    """The first line of its docstring is what docs/signals.md says it does."""
    words = {
        Action.EMAIL_CHANGED: "email",
        Action.USERNAME_CHANGED: "username",
        Action.PRIVILEGES_CHANGED: "superuser",
        Action.PASSWORD_CHANGED: "password",
    }
    user = loaded(user)
    user.email, user.username, user.is_superuser = "new@example.com", "ada", True
    user.set_password("a new password 42")

    user.save()

    assert set(AuditEvent.objects.values_list("action", flat=True)) == set(words)
    entry = (inspect.getdoc(record_account_changes) or "").partition("\n")[0]
    assert [word for word in words.values() if word not in entry] == []


def test_a_save_that_changes_neither_records_nothing_and_costs_one_query(user):
    user = loaded(user)
    user.first_name = "Ada"

    with CaptureQueriesContext(connection) as queries:
        user.save()

    assert len(queries) == 1
    assert not AuditEvent.objects.exists()


def test_saving_again_records_a_change_once(user):
    user = loaded(user)
    user.email = "new@example.com"
    user.save()
    user.save()

    assert AuditEvent.objects.count() == 1


def test_a_change_the_save_did_not_write_is_not_recorded(user):
    user = loaded(user)
    user.email = "not-saved@example.com"

    user.save(update_fields=["first_name"])

    assert not AuditEvent.objects.exists()
    assert loaded(user).email != "not-saved@example.com"


def test_a_deferred_email_costs_no_query_and_records_nothing(user):
    user = User.objects.only("pk", "first_name").get(pk=user.pk)
    user.first_name = "Ada"

    with CaptureQueriesContext(connection) as queries:
        user.save()

    assert len(queries) == 1
    assert not AuditEvent.objects.exists()


def test_creating_a_user_records_no_change():
    UserFactory()

    assert not AuditEvent.objects.exists()


def test_a_rolled_back_change_leaves_no_entry(user, rollback):
    user = loaded(user)
    user.email = "new@example.com"

    rollback(user.save)

    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_change_and_its_entry_still_commit_together():
    user = loaded(UserFactory(email="old@example.com"))

    def fail(sender, **kwargs):
        raise RuntimeError("a later receiver failed")

    post_save.connect(fail, sender=User, dispatch_uid="tests.fail")
    try:
        user.email = "new@example.com"
        with pytest.raises(RuntimeError):
            user.save()  # autocommit: User.save() opens the transaction
    finally:
        post_save.disconnect(sender=User, dispatch_uid="tests.fail")

    assert loaded(user).email == "old@example.com"
    assert not AuditEvent.objects.exists()


def test_fixtures_with_raw_saves_record_nothing():
    call_command(
        "loaddata",
        Profile._meta.app_config.path + "/tests/fixtures/users.json",
        verbosity=0,
    )

    assert User.objects.filter(username="fixture").exists()
    assert not AuditEvent.objects.exists()


def test_queryset_update_sends_no_signal_so_records_nothing(user):
    # The documented gap: update() and bulk_create() bypass every receiver.
    User.objects.filter(pk=user.pk).update(email="bulk@example.com")

    assert not AuditEvent.objects.exists()


def test_bulk_create_sends_no_signal(user):
    [bulk] = User.objects.bulk_create([User(username="bulk", email="b@example.com")])

    assert not Profile.objects.filter(user_id=bulk.pk).exists()
    assert not Notification.objects.filter(user_id=bulk.pk).exists()


def test_muted_signals_build_bare_rows(muted_signals):
    user = UserFactory()
    user.email = "new@example.com"
    user.save()

    assert not Profile.objects.filter(user=user).exists()
    assert not Notification.objects.filter(user=user).exists()
    assert not AuditEvent.objects.exists()


def test_mute_signals_mutes_one_signal_for_a_block():
    with mute_signals(post_save):
        user = UserFactory()
    user.groups.create(name="Editors")  # m2m_changed still runs

    assert not Profile.objects.filter(user=user).exists()
    assert AuditEvent.objects.get().action == Action.GROUPS_ADDED
