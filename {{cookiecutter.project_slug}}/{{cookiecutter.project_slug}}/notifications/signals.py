"""What the notifications app does when a user is created, asks for a password reset,
or when someone signs up with an address that has an account.

Connected by NotificationsConfig.ready(). The users app never imports this
one: it does not know that a welcome email exists, and it asks for a reset
email, or for the notice to an address's owner, only by sending its
password_reset_requested and signup_with_taken_email signals.
"""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from ..signal_tools.defers import defers
from ..users.models import User
from ..users.signals import password_reset_requested, signup_with_taken_email
from . import services


@receiver(
    post_save,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="notifications.queue_welcome",
)
@defers("commit", {% if cookiecutter.background == "none" %}"response"{% else %}"task"{% endif %})
def queue_welcome(
    sender: type[User],
    instance: User,
    created: bool,
    raw: bool,
    using: str,
    **kwargs: Any,
) -> None:
    """Put the welcome email in the outbox, and deliver it once the signup commits.

    The row is written in the signup's transaction, so it cannot be lost;
    the email goes out only after commit, so a rolled-back signup sends none.
    """
    if created and not raw and instance.email:
        services.queue_welcome(instance, using=using)


@receiver(password_reset_requested, dispatch_uid="notifications.queue_password_reset")
@defers("commit", {% if cookiecutter.background == "none" %}"response"{% else %}"task"{% endif %})
def queue_password_reset(
    sender: type, user: User, domain: str, use_https: bool, **kwargs: Any
) -> None:
    """Put a password reset email in the outbox, at most one per NOTIFICATIONS_RESET_COOLDOWN.

    A request inside the cool-down writes and sends nothing, and the page
    says the same (services.queue_password_reset).
    """
    services.queue_password_reset(user, domain=domain, use_https=use_https)


@receiver(signup_with_taken_email, dispatch_uid="notifications.queue_account_exists")
@defers("commit", {% if cookiecutter.background == "none" %}"response"{% else %}"task"{% endif %})
def queue_account_exists(sender: type, user: User, **kwargs: Any) -> None:
    """Tell an address's owner that someone tried to sign up with it, at most once per cool-down.

    The signup page answered as for a new address: this email, to the
    owner only, is where it says the address has an account (or, if that
    account still waits for its signup's confirmation, its welcome email
    again, whose link opens it: services.tell_owner_of_taken_address).
    """
    services.tell_owner_of_taken_address(user)
