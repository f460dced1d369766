"""Business actions of the users app: views, admin and commands call these."""

from django.contrib.auth import get_user_model
from django.db import transaction


@transaction.atomic
def sign_up(*, username, email, password):
    """Create a user. Other apps react through post_save: profile, welcome email."""
    return get_user_model().objects.create_user(
        username=username, email=email, password=password
    )
