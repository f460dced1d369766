"""Reads of the users app that other apps use (services.py holds the writes)."""

from django.core.exceptions import ObjectDoesNotExist

from .models import Profile, User


def profile_of(user: User) -> Profile | None:
    """The user's profile, or None for a user saved without signals (a bulk insert)."""
    try:
        return user.profile
    except ObjectDoesNotExist:
        return None
