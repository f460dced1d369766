"""What the users app does when a user or a profile is saved, and the signals it sends.

Connected by UsersConfig.ready(). There is deliberately no receiver that
saves the profile on every user save: it would cost two queries per save and
crash for users that have no profile yet.
"""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import Signal, receiver

from ..signal_tools.defers import defers
from . import selectors, services
from .models import Profile, User

# Sent by users.services.sign_up() when a person signs up through a request,
# after the user is created (inactive until its address is confirmed) and in
# the same transaction. Not sent for users
# made by the admin, create_user() or a command: listen to post_save for
# "a user exists now", to this for "someone signed up".
# Arguments: user (the new user), request (the HttpRequest of the signup).
user_signed_up = Signal()

# Sent by users.services.request_password_resets(), in place of the email
# Django's PasswordResetForm would send, for each active account with a usable
# password whose email a person typed on the password reset page,
{%- if cookiecutter.background == "none" %} once the
# page's response is sent.
{%- else %} by a task on
# the worker (users/tasks.py), never in the page's request.
{%- endif %}
# The users app sends no email: the notifications app listens and delivers
# one through its outbox. The reset
# token is not an argument: it must be made when the email is sent.
# Arguments: user, domain (host of the reset link), use_https (its scheme),
# request (the HttpRequest, or None{% if cookiecutter.background != "none" %}: None from the worker{% endif %}).
password_reset_requested = Signal()

# Sent by users.services.sign_up() instead of creating a user when the
# address typed already has an account (ignoring case), in the signup's
# transaction. The signup page answers as for a new address, so nobody learns
# which addresses have accounts: the notifications app listens and tells the
# address's owner (at most once per NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN).
# Arguments: user (the account that has the address), request (the
# HttpRequest of the signup, or None).
signup_with_taken_email = Signal()

# Sent by users.services.confirm_email() when the owner of a user's address
# opened the confirmation link of the welcome email, after email_confirmed_at
# is set (and an account waiting for it since its signup is activated), in the
# same transaction. Not sent again for the same address.
# Arguments: user, request (the HttpRequest of the click, or None).
email_confirmed = Signal()


@receiver(
    post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="users.create_profile"
)
def create_profile(
    sender: type[User], instance: User, created: bool, raw: bool, **kwargs: object
) -> None:
    """Create the profile of a new user, so every user has one from the start.

    Skipped for raw saves: fixtures and loaddata bring their own profile rows.
    """
    if created and not raw:
        services.create_profile(instance)


@receiver(
    pre_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="users.unconfirm_new_email"
)
def unconfirm_new_email(
    sender: type[User],
    instance: User,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
    **kwargs: object,
) -> None:
    """Mark a user's email as unconfirmed when a save changes it, whatever path saves it.

    Skipped for raw saves: a fixture's row is loaded as it is.
    """
    if not raw:
        services.unconfirm_new_email(instance, update_fields=update_fields, using=using)


@receiver(pre_save, sender="users.Profile", dispatch_uid="users.remember_old_avatar")
def remember_old_avatar(
    sender: type[Profile],
    instance: Profile,
    raw: bool,
    using: str,
    update_fields: frozenset[str] | None,
    **kwargs: object,
) -> None:
    """Read the avatar the database holds before a profile save, for remove_replaced_avatar.

    pre_save, because after the save the row holds the new name. One SELECT
    per profile save that may change the avatar, none for the others.
    """
    # A note on the instance for remove_replaced_avatar, not a field.
    instance._old_avatar = ""  # type: ignore[attr-defined]
    if raw or instance._state.adding:
        return
    if update_fields is not None and "avatar" not in update_fields:
        return
    instance._old_avatar = selectors.stored_avatar(instance, using=using)  # type: ignore[attr-defined]


@receiver(
    post_save, sender="users.Profile", dispatch_uid="users.remove_replaced_avatar"
)
@defers("commit")
def remove_replaced_avatar(
    sender: type[Profile], instance: Profile, raw: bool, using: str, **kwargs: object
) -> None:
    """Delete a replaced avatar file once the save commits, so old files don't pile up.

    After commit, never before: a rollback leaves the row pointing at the old
    file, so the file must stay. And not in pre_save: in autocommit mode
    on_commit runs at once, before the UPDATE that might still fail.
    """
    old_name = instance.__dict__.pop("_old_avatar", "")
    if not raw and old_name and old_name != instance.avatar.name:
        storage = instance.avatar.storage
        transaction.on_commit(
            partial(storage.delete, old_name), using=using, robust=True
        )


@receiver(
    post_delete, sender="users.Profile", dispatch_uid="users.remove_deleted_avatar"
)
@defers("commit")
def remove_deleted_avatar(
    sender: type[Profile], instance: Profile, using: str, **kwargs: object
) -> None:
    """Delete the avatar file of a deleted profile, once the delete is committed."""
    storage, name = instance.avatar.storage, instance.avatar.name
    if name:
        transaction.on_commit(partial(storage.delete, name), using=using, robust=True)
