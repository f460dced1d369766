"""Group membership (m2m_changed on User.groups): every action, from either side."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from ...notifications.models import Notification
from ...users.tests.factories import UserFactory
from ..models import AuditEvent

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action

USERS_IN_GROUPS = Path(__file__).parent / "fixtures" / "users_in_groups.json"


@pytest.fixture
def groups():
    return [Group.objects.create(name=name) for name in ("Editors", "Staff", "Support")]


def trail():
    """(action, username, group names) of every entry, oldest first."""
    return [
        (event.action, event.target_repr, event.changes["groups"])
        for event in AuditEvent.objects.order_by("pk")
    ]


def test_adding_groups_records_one_entry_with_their_names(user, groups):
    user.groups.add(groups[1], groups[0])

    assert trail() == [(Action.GROUPS_ADDED, user.username, ["Editors", "Staff"])]


def test_removing_a_group_records_it(user, groups):
    user.groups.add(*groups)

    user.groups.remove(groups[0])

    assert trail()[-1] == (Action.GROUPS_REMOVED, user.username, ["Editors"])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda user, groups: user.groups.add(groups[0]), id="add-again"),
        pytest.param(
            lambda user, groups: user.groups.remove(groups[1]), id="remove-not-in"
        ),
    ],
)
def test_a_change_that_leaves_the_memberships_as_they_are_records_nothing(
    user, groups, change
):
    user.groups.add(groups[0])

    change(user, groups)

    assert len(trail()) == 1


def test_clear_records_the_groups_it_removed(user, groups):
    # clear() sends pk_set=None: pre_clear reads what is about to go.
    user.groups.add(*groups)

    user.groups.clear()

    assert trail()[-1] == (
        Action.GROUPS_REMOVED,
        user.username,
        ["Editors", "Staff", "Support"],
    )


def test_clearing_no_groups_records_nothing(user):
    user.groups.clear()

    assert trail() == []


def test_set_records_what_left_and_what_came(user, groups):
    user.groups.add(groups[0], groups[1])

    user.groups.set([groups[1], groups[2]])

    assert trail()[1:] == [
        (Action.GROUPS_REMOVED, user.username, ["Editors"]),
        (Action.GROUPS_ADDED, user.username, ["Support"]),
    ]


def test_adding_users_to_a_group_records_one_entry_per_user(groups):
    ada, grace = UserFactory(username="ada"), UserFactory(username="grace")

    groups[0].user_set.add(ada, grace)

    assert trail() == [
        (Action.GROUPS_ADDED, "ada", ["Editors"]),
        (Action.GROUPS_ADDED, "grace", ["Editors"]),
    ]


def test_removing_a_user_from_a_group_records_it(groups):
    ada = UserFactory(username="ada")
    groups[0].user_set.add(ada)

    groups[0].user_set.remove(ada)

    assert trail()[-1] == (Action.GROUPS_REMOVED, "ada", ["Editors"])


def test_clearing_a_group_records_one_entry_per_member(groups):
    ada, grace = UserFactory(username="ada"), UserFactory(username="grace")
    groups[0].user_set.add(ada, grace)

    groups[0].user_set.clear()

    assert trail()[2:] == [
        (Action.GROUPS_REMOVED, "ada", ["Editors"]),
        (Action.GROUPS_REMOVED, "grace", ["Editors"]),
    ]


def test_a_rolled_back_change_leaves_no_entry(user, groups, rollback):
    rollback(lambda: user.groups.add(groups[0]))

    assert trail() == []


def load_users_in_groups() -> None:
    call_command("loaddata", USERS_IN_GROUPS, verbosity=0)


def test_a_fixture_of_users_in_groups_loads_without_side_effects():
    # Django 6.1's loaddata sends m2m_changed with raw=True, as it does post_save.
    load_users_in_groups()

    ada = get_user_model().objects.get(username="ada")
    assert sorted(ada.groups.values_list("name", flat=True)) == ["Editors", "Staff"]
    assert trail() == []
    assert not Notification.objects.exists()


def test_after_a_fixture_a_live_group_change_is_still_recorded():
    load_users_in_groups()
    ada = get_user_model().objects.get(username="ada")

    ada.groups.add(Group.objects.get(name="Support"))

    assert trail() == [(Action.GROUPS_ADDED, "ada", ["Support"])]


def test_reloading_a_fixture_that_takes_a_user_out_of_a_group_records_nothing():
    load_users_in_groups()
    ada = get_user_model().objects.get(username="ada")
    ada.groups.add(Group.objects.get(name="Support"))

    # The fixture sets ada's groups back: a raw pre_remove and post_remove.
    load_users_in_groups()

    assert sorted(ada.groups.values_list("name", flat=True)) == ["Editors", "Staff"]
    assert trail() == [(Action.GROUPS_ADDED, "ada", ["Support"])]
