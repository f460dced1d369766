"""Checks on the account pages that tests of several apps share."""

from django.http import HttpResponse
from django.test import Client

from ..models import Profile, User


def assert_avatar_refused(response: HttpResponse, user: User, error: str) -> None:
    """The profile page came back with `error` under the avatar field, and stored no avatar."""
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors["avatar"])  # type: ignore[attr-defined]
    assert not Profile.objects.get(user=user).avatar


def assert_new_password_set(
    client: Client, url: str, user: User, password: str, *, done: str, **fields: str
) -> None:
    """Posting `password` twice to the form at `url` leads to `done`, and it is the user's."""
    response = client.post(
        url,
        {**fields, "new_password1": password, "new_password2": password},
        follow=True,
    )
    assert response.redirect_chain == [(done, 302)]
    user.refresh_from_db()
    assert user.check_password(password)
