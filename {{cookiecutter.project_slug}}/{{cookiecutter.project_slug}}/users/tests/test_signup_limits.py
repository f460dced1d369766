"""Signups per client address and per email address: each may cost a hash and an email."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from ..models import SignupAttempt, User
from ..services import email_key
from .factories import UserFactory, signup_data

pytestmark = pytest.mark.django_db


def post(client, **fields):
    return client.post("/accounts/signup/", signup_data(**fields))


def test_signups_past_the_limit_per_address_get_429_taken_or_new(client, settings):
    settings.SIGNUP_ATTEMPTS_PER_ADDRESS = 3
    UserFactory(username="first", email="taken@example.com")
    # Refused forms count too: they are how addresses were probed.
    statuses = [
        post(
            client, username=f"user{n}", email=f"user{n}@example.com", password2="x"
        ).status_code
        for n in range(3)
    ]

    taken = post(client, email="taken@example.com")
    new = post(client, email="new@example.com")

    assert statuses == [200, 200, 200]
    assert (taken.status_code, new.status_code) == (429, 429)
    assert "Too many signups" in new.content.decode()
    assert not User.objects.filter(username="ada").exists()
    # Another client address is not refused.
    other = Client(REMOTE_ADDR="203.0.113.9")
    assert post(other, email="new@example.com").status_code == 302


def test_signups_past_the_limit_per_email_address_get_429_in_any_case(settings):
    settings.SIGNUP_ATTEMPTS_PER_EMAIL = 2
    clients = [Client(REMOTE_ADDR=f"203.0.113.{n}") for n in range(4)]

    statuses = [
        post(clients[0], email="ada@example.com", password2="x").status_code,
        post(clients[1], email="Ada@Example.com", password2="x").status_code,
        post(clients[2], email="ADA@EXAMPLE.COM").status_code,
        post(clients[3], email="grace@example.com", username="grace").status_code,
    ]

    assert statuses == [200, 200, 429, 302]


def test_the_email_address_is_kept_as_a_keyed_hash_and_attempts_expire(
    client, settings
):
    settings.SIGNUP_ATTEMPTS_PER_ADDRESS = 1
    post(client, email="ada@example.com", password2="x")
    [attempt] = SignupAttempt.objects.all()
    assert attempt.address == "127.0.0.1"
    # A hex digest: no letter of the address is kept ("ada" itself is hex,
    # so a substring test would fail by chance for about 1 key in 70).
    assert re.fullmatch(r"[0-9a-f]{64}", attempt.email_key)
    assert attempt.email_key == email_key("ADA@example.com")
    assert post(client).status_code == 429

    # An hour later the attempt is forgotten.
    SignupAttempt.objects.update(attempted_at=timezone.now() - timedelta(hours=2))

    assert post(client).status_code == 302
    assert SignupAttempt.objects.count() == 1


def test_opening_the_signup_page_is_not_counted(client, settings):
    settings.SIGNUP_ATTEMPTS_PER_ADDRESS = 1

    for _ in range(3):
        assert client.get("/accounts/signup/").status_code == 200
    assert post(client).status_code == 302
