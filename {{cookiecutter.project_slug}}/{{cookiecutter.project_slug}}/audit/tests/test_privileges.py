"""Privilege changes are in the trail: staff and superuser flags, passwords, permissions."""

import pytest
from django.contrib.auth.models import Group, Permission

from ...users.models import User
from ...users.tests.factories import UserFactory
from ..models import AuditEvent

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def loaded(user):
    """The user as read from the database: its saved values are known."""
    return User.objects.get(pk=user.pk)


def test_granting_staff_and_superuser_is_recorded():
    user = loaded(UserFactory(username="ada"))
    user.is_staff = user.is_superuser = True
    user.save()

    [event] = AuditEvent.objects.all()
    assert event.action == Action.PRIVILEGES_CHANGED
    assert event.changes == {
        "is_staff": {"from": False, "to": True},
        "is_superuser": {"from": False, "to": True},
    }


def test_a_password_change_is_recorded_without_the_hash():
    user = loaded(UserFactory(username="ada"))
    user.set_password("a new password 42")
    user.save()

    [event] = AuditEvent.objects.all()
    assert (event.action, event.changes) == (Action.PASSWORD_CHANGED, {})


def test_a_hash_upgraded_at_login_is_not_a_password_change():
    user = loaded(UserFactory(username="ada"))
    user.password = "pbkdf2_sha256$1$salt$upgraded"
    user.save(update_fields=["password"])

    assert not AuditEvent.objects.exists()


def test_a_groups_permissions_are_recorded_as_they_change():
    group = Group.objects.create(name="editors")
    change, delete = Permission.objects.filter(
        codename__in=["change_user", "delete_user"]
    ).order_by("codename")

    group.permissions.add(change, delete)
    group.permissions.remove(delete)
    group.permissions.clear()

    events = list(
        AuditEvent.objects.order_by("pk").values_list(
            "action", "target_repr", "changes"
        )
    )
    assert events == [
        (
            Action.PERMISSIONS_ADDED,
            "editors",
            {"permissions": ["users.change_user", "users.delete_user"]},
        ),
        (Action.PERMISSIONS_REMOVED, "editors", {"permissions": ["users.delete_user"]}),
        (Action.PERMISSIONS_REMOVED, "editors", {"permissions": ["users.change_user"]}),
    ]
    assert AuditEvent.objects.filter(target_type="auth.Group").count() == 3


def test_a_users_own_permissions_are_recorded():
    user = UserFactory(username="ada")
    user.user_permissions.add(Permission.objects.get(codename="view_user"))

    [event] = AuditEvent.objects.all()
    assert (event.action, event.target_repr) == (Action.PERMISSIONS_ADDED, "ada")
    assert event.changes == {"permissions": ["users.view_user"]}


def test_clearing_a_users_own_permissions_records_the_ones_it_had():
    user = UserFactory(username="ada")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "add_user"])
    )
    AuditEvent.objects.all().delete()

    user.user_permissions.clear()

    [event] = AuditEvent.objects.all()
    assert (event.action, event.target_repr) == (Action.PERMISSIONS_REMOVED, "ada")
    assert event.changes == {"permissions": ["users.add_user", "users.view_user"]}


def test_changes_made_in_the_admin_record_who_and_from_where(admin_client, admin_user):
    ada = UserFactory(username="ada")
    group = Group.objects.create(name="editors")
    view = Permission.objects.get(codename="view_user")

    admin_client.post(
        f"/admin/users/user/{ada.pk}/password/",
        {
            "password1": "A new password 42!",
            "password2": "A new password 42!",
            "usable_password": "true",
        },
        REMOTE_ADDR="198.51.100.7",
    )
    admin_client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "editors", "permissions": [view.pk]},
        REMOTE_ADDR="198.51.100.7",
    )

    events = AuditEvent.objects.exclude(action=Action.LOGGED_IN).order_by("pk")
    assert [e.action for e in events] == [
        Action.PASSWORD_CHANGED,
        Action.PERMISSIONS_ADDED,
    ]
    assert {(e.actor, e.ip_address) for e in events} == {(admin_user, "198.51.100.7")}
