"""What the audit app records, and from which signals.

Connected by AuditConfig.ready(). Each entry is written through the `using`
connection of the change, inside its transaction: deletes and m2m changes run
in one already, and User.save() wraps the save and its receivers in one. So a
rollback leaves no entry, and a commit cannot lose one.

bulk_create(), QuerySet.update() and raw SQL send no signals: changes made
that way are not in the trail.
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Model
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_init,
    post_save,
    pre_delete,
)
from django.dispatch import receiver
from django.http import HttpRequest

from ..users.models import User
from ..users.records import recorded_username
from ..users.signals import email_confirmed, user_signed_up
from ..web.client_ip import client_ip
from .models import AuditEvent

Action = AuditEvent.Action


def watched_fields(user_model: type[User]) -> dict[str, str]:
    """The user fields whose changes are recorded, with the action of each."""
    return {
        user_model.get_email_field_name(): Action.EMAIL_CHANGED,
        user_model.USERNAME_FIELD: Action.USERNAME_CHANGED,
    }


def values_in_memory(instance: User, names: Iterable[str]) -> dict[str, Any]:
    # From __dict__, not getattr(): reading a deferred field costs a query.
    return {
        name: instance.__dict__[name] for name in names if name in instance.__dict__
    }


def target(user: User) -> dict[str, str]:
    return {
        "target_type": user._meta.label,
        "target_id": str(user.pk),
        "target_repr": user.get_username(),
    }


def request_details(request: HttpRequest | None) -> dict[str, Any]:
    """The client's IP address and user agent, when there is a request."""
    if request is None:
        return {}
    # Behind proxies, the client's address, not the proxy's (core.client_ip);
    # None for a unix socket or a test without REMOTE_ADDR.
    address = client_ip(request) or None
    agent = request.headers.get("user-agent", "")
    return {"ip_address": address, "user_agent": agent[:255]}


@receiver(
    post_init,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="audit.remember_account_fields",
)
def remember_account_fields(
    sender: type[User], instance: User, **kwargs: object
) -> None:
    """Remember a user's email and username as loaded, so a save can tell what changed without a query."""
    # A note on the instance for record_account_changes, not a field.
    instance._audit_saved = values_in_memory(instance, watched_fields(sender))  # type: ignore[attr-defined]


@receiver(
    post_save,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="audit.record_account_changes",
)
def record_account_changes(
    sender: type[User],
    instance: User,
    created: bool,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
    **kwargs: object,
) -> None:
    """Record a change of email or username, in the transaction of the save that made it.

    Compares with the values remembered at load time: no query unless
    something changed. Only the fields this save wrote count.
    """
    fields = watched_fields(sender)
    written = [
        name for name in fields if update_fields is None or name in update_fields
    ]
    before = getattr(instance, "_audit_saved", {})
    after = values_in_memory(instance, written)
    if not created and not raw:
        events = [
            AuditEvent(
                action=fields[name],
                changes={name: {"from": before[name], "to": value}},
                **target(instance),
            )
            for name, value in after.items()
            if name in before and before[name] != value
        ]
        if events:
            AuditEvent.objects.using(using).bulk_create(events)
    instance._audit_saved = {**before, **after}  # type: ignore[attr-defined]  # see remember_account_fields


def memberships(
    through: type[Model],
    instance: User | Group,
    reverse: bool,
    pk_set: set[int] | None,
    using: str,
) -> list[tuple[int, int]]:
    """The (user id, group id) rows of the m2m table for one side of the relation."""
    mine, theirs = ("group_id", "user_id") if reverse else ("user_id", "group_id")
    rows = through._default_manager.using(using).filter(**{mine: instance.pk})
    if pk_set is not None:
        rows = rows.filter(**{f"{theirs}__in": pk_set})
    return list(rows.values_list("user_id", "group_id"))


@receiver(
    m2m_changed, sender="users.User_groups", dispatch_uid="audit.record_group_changes"
)
def record_group_changes(
    sender: type[Model],
    instance: User | Group,  # a group when reverse
    action: str,
    reverse: bool,
    pk_set: set[Any] | None,
    using: str,
    raw: bool,
    **kwargs: Any,
) -> None:
    """Record who joined or left which group, whichever side (user.groups, group.user_set) changed.

    post_add's pk_set holds only the new memberships. remove() reports every
    pk it was given and clear() none (pk_set is None), so pre_remove and
    pre_clear read the memberships that are really about to go. Since Django
    6.1 loaddata sends m2m_changed with raw=True: a fixture's memberships are
    its own data, not a change anyone made, so they record nothing.
    """
    if raw or action == "pre_add":
        return
    if action in ("pre_remove", "pre_clear"):
        # A note on the instance for the post_ action, not a field.
        instance._audit_leaving = memberships(sender, instance, reverse, pk_set, using)  # type: ignore[union-attr]
        return
    if action == "post_add":
        added = pk_set or set()  # never None after an add
        pairs = [(instance.pk, pk) for pk in added]
        if reverse:  # group.user_set.add(*users): pk_set holds users
            pairs = [(pk, instance.pk) for pk in added]
    else:  # post_remove, post_clear
        pairs = instance.__dict__.pop("_audit_leaving", [])
    if not pairs:
        return
    users: dict[Any, Any]
    groups: dict[Any, Any]
    if reverse:
        groups = {instance.pk: instance}
        all_users = get_user_model()._default_manager.using(using)
        users = all_users.in_bulk({user_pk for user_pk, _ in pairs})
    else:
        users = {instance.pk: cast(User, instance)}
        groups = Group.objects.using(using).in_bulk({pk for _, pk in pairs})
    names: defaultdict[int, list[str]] = defaultdict(list)
    for user_pk, group_pk in pairs:
        names[user_pk].append(groups[group_pk].name)
    kind = Action.GROUPS_ADDED if action == "post_add" else Action.GROUPS_REMOVED
    AuditEvent.objects.using(using).bulk_create(
        AuditEvent(
            action=kind, changes={"groups": sorted(names[pk])}, **target(users[pk])
        )
        for pk in sorted(names)
    )


@receiver(
    pre_delete,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="audit.remember_deleted_user",
)
def remember_deleted_user(
    sender: type[User], instance: User, using: str, **kwargs: object
) -> None:
    """Read a user's email and groups before the delete: by post_delete the group rows are gone."""
    # A note on the instance for record_user_deleted, not a field.
    instance._audit_deleted = {  # type: ignore[attr-defined]
        "email": getattr(instance, sender.get_email_field_name()),
        "groups": sorted(instance.groups.using(using).values_list("name", flat=True)),
    }


@receiver(
    post_delete,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="audit.record_user_deleted",
)
def record_user_deleted(
    sender: type[User], instance: User, using: str, **kwargs: object
) -> None:
    """Record a deleted user with what pre_delete read, in the transaction of the delete."""
    AuditEvent.objects.using(using).create(
        action=Action.USER_DELETED,
        changes=getattr(instance, "_audit_deleted", {}),
        **target(instance),
    )


@receiver(user_logged_in, dispatch_uid="audit.record_login")
def record_login(
    sender: type[User], request: HttpRequest, user: User, **kwargs: object
) -> None:
    """Record a login, with the IP address and browser it came from.

    Auth signals are not model signals: a string sender would never match, so
    this listens to any sender.
    """
    AuditEvent.objects.create(
        actor=user,
        action=Action.LOGGED_IN,
        **target(user),
        **request_details(request),
    )


@receiver(user_login_failed, dispatch_uid="audit.record_failed_login")
def record_failed_login(
    sender: object,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    """Record a failed login and the username tried, never the password or an unknown name.

    Django masks every sensitive value of `credentials` before sending; only
    the username is kept, and only if an account has it: any other text is
    kept as a keyed hash (users.records), since it may be a password typed
    into the wrong field.
    """
    user_model = get_user_model()
    username = recorded_username(credentials.get(user_model.USERNAME_FIELD))
    AuditEvent.objects.create(
        action=Action.LOGIN_FAILED,
        target_type=user_model._meta.label,
        target_repr=username[:255],
        **request_details(request),
    )


@receiver(user_locked_out, dispatch_uid="audit.record_lockout")
def record_lockout(
    sender: object,
    request: HttpRequest,
    username: str | None,
    ip_address: str | None,
    **kwargs: Any,
) -> None:
    """Record that django-axes locked a username out at an address after too many failed logins.

    django-axes sends user_locked_out with the string "axes" as sender: this
    listens to any sender. The username comes through AXES_USERNAME_CALLABLE,
    so an unknown one is already a keyed hash.
    """
    user_model = get_user_model()
    AuditEvent.objects.create(
        action=Action.LOCKED_OUT,
        target_type=user_model._meta.label,
        target_repr=str(username or "")[:255],
        changes={"failure_limit": settings.AXES_FAILURE_LIMIT},
        **request_details(request),
    )


@receiver(user_signed_up, dispatch_uid="audit.record_signup")
def record_signup(
    sender: type[User], user: User, request: HttpRequest, **kwargs: object
) -> None:
    """Record a signup with its IP address and browser, which only a real signup knows."""
    AuditEvent.objects.using(user._state.db).create(
        actor=user,
        action=Action.SIGNED_UP,
        **target(user),
        **request_details(request),
    )


@receiver(email_confirmed, dispatch_uid="audit.record_email_confirmed")
def record_email_confirmed(
    sender: type[User], user: User, request: HttpRequest | None, **kwargs: Any
) -> None:
    """Record that the owner of a user's address confirmed it, with the IP address and browser of the click.

    Written in the confirmation's transaction (users.services.confirm_email).
    """
    AuditEvent.objects.using(user._state.db).create(
        actor=user,
        action=Action.EMAIL_CONFIRMED,
        changes={"email": user.email},
        **target(user),
        **request_details(request),
    )
