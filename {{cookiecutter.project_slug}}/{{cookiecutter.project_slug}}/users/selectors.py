"""Reads of the users app that other apps use (services.py holds the writes)."""

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model

from .models import Profile, User

# (user id, group id): one row of the table behind User.groups.
Membership = tuple[Any, Any]


def memberships(
    through: type[Model],
    instance: User | Group,
    pk_set: Collection[Any] | None,
    *,
    using: str,
) -> list[Membership]:
    """The memberships of a user (or of a group) in the database, among pk_set if given."""
    mine, theirs = (
        ("group_id", "user_id")
        if isinstance(instance, Group)
        else ("user_id", "group_id")
    )
    rows = through._default_manager.using(using).filter(**{mine: instance.pk})
    if pk_set is not None:
        rows = rows.filter(**{f"{theirs}__in": pk_set})
    return list(rows.values_list("user_id", "group_id"))


def added_memberships(
    instance: User | Group, pk_set: Collection[Any]
) -> list[Membership]:
    """The memberships an add made, from m2m_changed's post_add: pk_set holds the other side's ids."""
    if isinstance(instance, Group):
        return [(user_pk, instance.pk) for user_pk in pk_set]
    return [(instance.pk, group_pk) for group_pk in pk_set]


def group_names_by_user(
    pairs: Iterable[Membership], known: User | Group, *, using: str
) -> list[tuple[User, list[str]]]:
    """Each user of some memberships with the sorted names of its groups among them, by user id.

    `known` is the user or the group the memberships share: one query reads
    the other side.
    """
    pairs = list(pairs)
    users: dict[Any, User]
    groups: dict[Any, Group]
    if isinstance(known, Group):
        groups = {known.pk: known}
        users = User._default_manager.using(using).in_bulk({u for u, _ in pairs})
    else:
        users = {known.pk: known}
        groups = Group.objects.using(using).in_bulk({g for _, g in pairs})
    names: defaultdict[Any, list[str]] = defaultdict(list)
    for user_pk, group_pk in pairs:
        names[user_pk].append(groups[group_pk].name)
    return [(users[pk], sorted(names[pk])) for pk in sorted(names)]


def group_names(user: User, *, using: str) -> list[str]:
    """The sorted names of a user's groups."""
    return sorted(user.groups.using(using).values_list("name", flat=True))


def stored_avatar(profile: Profile, *, using: str) -> str:
    """The name of the avatar file the database holds for a profile; "" if none."""
    rows = Profile._default_manager.using(using).filter(pk=profile.pk)
    return rows.values_list("avatar", flat=True).first() or ""


def profile_of(user: User) -> Profile | None:
    """The user's profile, or None for a user saved without signals (a bulk insert)."""
    try:
        return user.profile
    except ObjectDoesNotExist:
        return None


def permissions_held(holder: User | Group, *, using: str) -> set[Any]:
    """The ids of the permissions a group, or a user itself (not through its groups), holds."""
    held = holder.permissions if isinstance(holder, Group) else holder.user_permissions
    return set(held.using(using).values_list("pk", flat=True))


def permission_names(pks: Collection[Any], *, using: str) -> list[str]:
    """The sorted "app_label.codename" names of some permissions."""
    rows = Permission.objects.using(using).filter(pk__in=pks)
    return sorted(
        f"{app}.{codename}"
        for app, codename in rows.values_list("content_type__app_label", "codename")
    )


def awaits_its_signup_confirmation(user: User) -> bool:
    """Whether the account still waits for the link of its signup's welcome email.

    Inactive, its address never confirmed, never logged in: a signup's
    account (anyone may have typed the address), not one an admin
    deactivated after it was used.
    """
    return (
        not user.is_active
        and user.email_confirmed_at is None
        and user.last_login is None
    )


def account_with_email(email: str) -> User | None:
    """The account that has this email address, ignoring case, or None.

    As the database's unique constraint compares them (Lower("email")).
    """
    return User._default_manager.filter(email__iexact=email).first()
