"""The username kept of a login attempt: by the audit trail, and by django-axes to lock out."""

from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

# A prefix no username can have (usernames take letters, digits and @.+-_).
UNKNOWN = "unknown:"


def recorded_username(typed: object) -> str:
    """The username as typed if an account has it, else a keyed hash of it.

    A name without an account is sometimes a password typed into the wrong
    field: the audit trail and django-axes keep "unknown:" and an HMAC keyed
    with SECRET_KEY instead. The same text always gives the same hash, so
    repeated attempts still count together (and lock out together), but the
    hash cannot be turned back into the text without the key.
    """
    username = "" if typed is None else str(typed)
    user_model = get_user_model()
    if user_model._default_manager.filter(
        **{user_model.USERNAME_FIELD: username}
    ).exists():
        return username
    # The salt names the module's old place (users/records.py): the hashes
    # made before the rename stay the same, so lockouts keep counting.
    digest = salted_hmac(
        "users.records.recorded_username", username, algorithm="sha256"
    ).hexdigest()
    return UNKNOWN + digest[:32]


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """AXES_USERNAME_CALLABLE: the username django-axes stores and locks out."""
    field = get_user_model().USERNAME_FIELD
    typed = (credentials or {}).get(field)
    if typed is None:
        typed = request.POST.get(field)
    return recorded_username(typed)
