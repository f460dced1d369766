"""Business actions of the users app: views, admin and commands call these."""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpRequest

from .models import User
from .signals import user_signed_up


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
