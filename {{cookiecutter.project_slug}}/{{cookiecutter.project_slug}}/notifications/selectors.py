"""Reads of the notifications app that other apps use."""

from ..users.models import User
from .models import Notification


def welcome_of(user: User) -> Notification | None:
    """The user's welcome email in the outbox, sent or not; None if none was queued."""
    return Notification.objects.filter(
        user=user, kind=Notification.Kind.WELCOME
    ).first()
