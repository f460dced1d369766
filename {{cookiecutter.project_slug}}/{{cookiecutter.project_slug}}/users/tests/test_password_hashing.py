"""Argon2 hashes new passwords; a PBKDF2 hash still logs in, and is rehashed then."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.test import override_settings

from config.settings import base

from ..models import User

pytestmark = pytest.mark.django_db

PASSWORD = "analytical-engine-1843"


@pytest.fixture(autouse=True)
def production_hashers():
    """The hashers of every settings module but the tests' (which use MD5 for speed)."""
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        yield


def test_argon2_comes_first_and_pbkdf2_after_it():
    assert base.PASSWORD_HASHERS[:2] == [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


def test_a_signup_stores_an_argon2_hash(client):
    client.post(
        "/accounts/signup/",
        {
            "username": "ada",
            "email": "ada@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )

    assert User.objects.get(username="ada").password.startswith("argon2$argon2id$")


def test_a_pbkdf2_hash_logs_in_and_is_upgraded_to_argon2(client):
    user = User.objects.create(
        username="ada", password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )

    wrong = client.post("/accounts/login/", {"username": "ada", "password": "nope"})
    user.refresh_from_db()
    # A wrong password changes nothing.
    assert wrong.status_code == 200
    assert user.password.startswith("pbkdf2_sha256$")

    right = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})

    assert right.status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)
