"""A deleted user: recorded at pre_delete, with the groups the delete is about to remove."""

import pytest
from django.contrib.auth.models import Group

from ...users.models import User
from ...users.tests.factories import UserFactory
from ..models import AuditEvent

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


def test_deleting_a_user_records_its_email_and_groups(user):
    user.groups.add(Group.objects.create(name="Editors"))
    pk, username, email = user.pk, user.username, user.email

    user.delete()

    event = AuditEvent.objects.get(action=Action.USER_DELETED)
    assert (event.target_id, event.target_repr) == (str(pk), username)
    assert event.changes == {"email": email, "groups": ["Editors"]}


def test_the_trail_outlives_the_user_and_its_actor_link(user, client):
    client.force_login(user)  # an entry whose actor is this user
    pk = user.pk

    user.delete()

    login = AuditEvent.objects.get(action=Action.LOGGED_IN)
    assert login.actor is None
    assert login.target_id == str(pk)


def test_a_queryset_delete_records_each_user():
    UserFactory(username="ada"), UserFactory(username="grace")

    User.objects.filter(username__in=["ada", "grace"]).delete()

    deleted = AuditEvent.objects.filter(action=Action.USER_DELETED)
    assert sorted(deleted.values_list("target_repr", flat=True)) == ["ada", "grace"]


def test_a_rolled_back_delete_leaves_no_entry(user, rollback):
    pk = user.pk

    rollback(user.delete)

    assert User.objects.filter(pk=pk).exists()
    assert not AuditEvent.objects.exists()
