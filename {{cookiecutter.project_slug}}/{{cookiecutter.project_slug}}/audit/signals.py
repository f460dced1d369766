"""What the audit app records, and from which signals.

Connected by AuditConfig.ready(). Each receiver decides whether there is
something to record and hands it to services.record(), which writes it
through the connection of the change it records, inside its transaction:
deletes and m2m changes run in one already, and User.save() wraps the save
and its receivers in one. So a rollback leaves no entry, and a commit cannot
lose one.

bulk_create(), QuerySet.update() and raw SQL send no signals: changes made
that way are not in the trail.
"""

from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_save, pre_delete
from django.dispatch import receiver
from django.http import HttpRequest

from ..users import selectors
from ..users.models import User
from ..users.signals import email_confirmed, user_signed_up
from ..users.usernames import recorded_username
from .models import AuditEvent
from .services import Entry, record

Action = AuditEvent.Action

# The user fields whose changes are recorded with both values
# (User.remembered_fields), with the action of each.
ACCOUNT_CHANGES = {"email": Action.EMAIL_CHANGED, "username": Action.USERNAME_CHANGED}
PRIVILEGES = ("is_staff", "is_superuser")


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
    """Record a change of email, username, staff or superuser status, or password, in the save's transaction.

    Compares with the values the database held (User.saved_changes()): no
    query unless something changed. Only the fields this save wrote count.
    """
    if created or raw:
        return
    changes = instance.saved_changes(update_fields)
    entries = [
        Entry(ACCOUNT_CHANGES[name], instance, {name: {"from": old, "to": new}})
        for name, (old, new) in changes.items()
        if name in ACCOUNT_CHANGES
    ]
    privileges = {
        name: {"from": old, "to": new}
        for name, (old, new) in changes.items()
        if name in PRIVILEGES
    }
    if privileges:
        entries.append(Entry(Action.PRIVILEGES_CHANGED, instance, privileges))
    # A new hash alone, saved by the login that upgrades it to the current
    # hasher (update_fields=["password"]), is the same password: not recorded.
    # The hash itself never is.
    if "password" in changes and update_fields != frozenset({"password"}):
        entries.append(Entry(Action.PASSWORD_CHANGED, instance))
    record(*entries, using=using)


@receiver(
    m2m_changed, sender="users.User_groups", dispatch_uid="audit.record_group_changes"
)
def record_group_changes(
    sender: type[Model],
    instance: User | Group,  # a group when reverse
    action: str,
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
        instance._audit_leaving = selectors.memberships(  # type: ignore[union-attr]
            sender, instance, pk_set, using=using
        )
        return
    if action == "post_add":
        pairs = selectors.added_memberships(instance, pk_set or set())
        kind = Action.GROUPS_ADDED
    else:  # post_remove, post_clear
        pairs = instance.__dict__.pop("_audit_leaving", [])
        kind = Action.GROUPS_REMOVED
    by_user = selectors.group_names_by_user(pairs, instance, using=using)
    record(
        *(Entry(kind, user, {"groups": names}) for user, names in by_user),
        using=using,
    )


@receiver(
    m2m_changed,
    sender="auth.Group_permissions",
    dispatch_uid="audit.record_group_permissions",
)
@receiver(
    m2m_changed,
    sender="users.User_user_permissions",
    dispatch_uid="audit.record_user_permissions",
)
def record_permission_changes(
    sender: type[Model],
    instance: Model,
    action: str,
    reverse: bool,
    pk_set: set[Any] | None,
    using: str,
    raw: bool,
    **kwargs: Any,
) -> None:
    """Record the permissions a group or a user was given or lost.

    From the group's or the user's side (group.permissions,
    user.user_permissions), as the admin changes them; a change made from
    the permission's side (permission.group_set) is not recorded. clear()
    gives no pk_set: pre_clear notes the permissions about to go.
    """
    if raw or reverse or not isinstance(instance, (Group, User)):
        return
    if action == "pre_clear":
        # A note on the instance for post_clear, not a field.
        instance._audit_permissions_leaving = selectors.permissions_held(  # type: ignore[union-attr]
            instance, using=using
        )
        return
    if action == "post_clear":
        pk_set = instance.__dict__.pop("_audit_permissions_leaving", set())
    elif action not in ("post_add", "post_remove"):
        return
    names = selectors.permission_names(pk_set or set(), using=using)
    if names:
        kind = (
            Action.PERMISSIONS_ADDED
            if action == "post_add"
            else Action.PERMISSIONS_REMOVED
        )
        record(Entry(kind, instance, {"permissions": names}), using=using)


@receiver(
    pre_delete,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="audit.record_user_deleted",
)
def record_user_deleted(
    sender: type[User], instance: User, using: str, **kwargs: object
) -> None:
    """Record a deleted user with its email and groups, in the transaction of the delete.

    pre_delete, because by post_delete the user's group rows are gone; the
    delete runs in a transaction, so a delete that fails leaves no entry.
    """
    changes = {
        "email": getattr(instance, sender.get_email_field_name()),
        "groups": selectors.group_names(instance, using=using),
    }
    record(Entry(Action.USER_DELETED, instance, changes), using=using)


@receiver(user_logged_in, dispatch_uid="audit.record_login")
def record_login(
    sender: type[User], request: HttpRequest, user: User, **kwargs: object
) -> None:
    """Record a login, with the IP address and browser it came from.

    Auth signals are not model signals: a string sender would never match, so
    this listens to any sender.
    """
    entry = Entry(Action.LOGGED_IN, user)
    record(entry, using=DEFAULT_DB_ALIAS, actor=user, request=request)


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
    kept as a keyed hash (users.usernames), since it may be a password typed
    into the wrong field.
    """
    username = recorded_username(credentials.get(User.USERNAME_FIELD))
    entry = Entry(Action.LOGIN_FAILED, username)
    record(entry, using=DEFAULT_DB_ALIAS, request=request)


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
    changes = {"failure_limit": settings.AXES_FAILURE_LIMIT}
    entry = Entry(Action.LOCKED_OUT, str(username or ""), changes)
    record(entry, using=DEFAULT_DB_ALIAS, request=request)


@receiver(user_signed_up, dispatch_uid="audit.record_signup")
def record_signup(
    sender: type[User], user: User, request: HttpRequest, **kwargs: object
) -> None:
    """Record a signup with its IP address and browser, which only a real signup knows.

    Written in the signup's transaction (users.services.sign_up).
    """
    entry = Entry(Action.SIGNED_UP, user)
    record(entry, using=user._state.db or DEFAULT_DB_ALIAS, actor=user, request=request)


@receiver(email_confirmed, dispatch_uid="audit.record_email_confirmed")
def record_email_confirmed(
    sender: type[User], user: User, request: HttpRequest | None, **kwargs: Any
) -> None:
    """Record that the owner of a user's address confirmed it, with the IP address and browser of the click.

    Written in the confirmation's transaction (users.services.confirm_email).
    """
    entry = Entry(Action.EMAIL_CONFIRMED, user, {"email": user.email})
    record(entry, using=user._state.db or DEFAULT_DB_ALIAS, actor=user, request=request)
