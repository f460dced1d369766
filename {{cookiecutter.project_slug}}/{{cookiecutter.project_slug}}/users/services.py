"""Business actions of the users app: views, admin and commands call these."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import User
from .signals import email_confirmed, user_signed_up


@transaction.atomic
def sign_up(
    *, username: str, email: str, password: str, request: HttpRequest | None = None
) -> User:
    """Create a user. Other apps react: profile and welcome email on post_save.

    Given the request of a signup form, also sends user_signed_up (the audit
    trail records the signup's IP address and browser); the admin and
    create_user() never send it.
    """
    user = get_user_model().objects.create_user(
        username=username, email=email, password=password
    )
    if request is not None:
        user_signed_up.send(sender=type(user), user=user, request=request)
    return user


@transaction.atomic
def confirm_email(user: User, *, request: HttpRequest | None = None) -> bool:
    """Mark the user's email address as confirmed and send email_confirmed; False if it was already.

    The caller has checked the link's token. One conditional UPDATE, so two
    clicks racing confirm once, and an address changed since the check stays
    unconfirmed. The audit trail records the confirmation on the signal.
    """
    now = timezone.now()
    unconfirmed = type(user)._default_manager.filter(
        pk=user.pk, email=user.email, email_confirmed_at=None
    )
    if not unconfirmed.update(email_confirmed_at=now):
        return False
    user.email_confirmed_at = now
    email_confirmed.send(sender=type(user), user=user, request=request)
    return True
