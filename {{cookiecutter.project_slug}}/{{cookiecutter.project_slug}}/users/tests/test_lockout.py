"""Login brute force: django-axes locks a username out at an address after too many failures."""

import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db.models import F
from django.test import Client

from ...audit.models import AuditEvent
from .factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's
ATTACKER = "203.0.113.66"


@pytest.fixture
def staff():
    return UserFactory(username="grace", is_staff=True, is_superuser=True)


def attempt(client, url, username, password, address=ATTACKER):
    return client.post(
        url, {"username": username, "password": password}, REMOTE_ADDR=address
    )


def brute_force(client, url, username):
    """Wrong passwords until the limit: the last one is answered by the lockout."""
    responses = [
        attempt(client, url, username, f"guess-{n}")
        for n in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert [r.status_code for r in responses[:-1]] == [200] * (len(responses) - 1)
    return responses[-1]


def let_the_cool_off_pass():
    """Move the stored attempts one cool-off (and a second) into the past."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time")
        - settings.AXES_COOLOFF_TIME
        - timedelta(seconds=1)
    )


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    limit, cool_off = settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME
    assert (limit, cool_off) == (5, timedelta(minutes=15))
    assert settings.AXES_LOCKOUT_PARAMETERS == [
        ["username", "ip_address"],
        "ip_address",
        "username",
    ]
    assert settings.AXES_ADDRESS_FAILURE_LIMIT == 20
    assert settings.AXES_USERNAME_FAILURE_LIMIT == 50


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_brute_force_is_locked_out_and_the_right_password_refused(client, staff, url):
    locked = brute_force(client, url, staff.username)

    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page
    assert "refused for 15 minutes" in page

    right = attempt(client, url, staff.username, PASSWORD)

    assert right.status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_the_right_password_is_accepted_once_the_cool_off_ends(client, staff, url):
    brute_force(client, url, staff.username)
    assert attempt(client, url, staff.username, PASSWORD).status_code == 429

    let_the_cool_off_pass()
    response = attempt(client, url, staff.username, PASSWORD)

    assert response.status_code == 302
    assert client.session[SESSION_KEY] == str(staff.pk)


def test_a_minute_before_the_end_of_the_cool_off_it_is_still_refused(client, staff):
    brute_force(client, "/accounts/login/", staff.username)
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time")
        - settings.AXES_COOLOFF_TIME
        + timedelta(minutes=1)
    )

    response = attempt(client, "/accounts/login/", staff.username, PASSWORD)

    assert response.status_code == 429


def test_the_lock_holds_one_username_at_one_address(client, staff):
    brute_force(client, "/accounts/login/", staff.username)

    # The account's owner, elsewhere, still gets in...
    elsewhere = attempt(
        Client(), "/accounts/login/", staff.username, PASSWORD, "198.51.100.2"
    )
    # ...and the attacker's address can still log in to another account.
    other = UserFactory(username="ada")
    same_address = attempt(Client(), "/accounts/login/", other.username, PASSWORD)

    assert elsewhere.status_code == 302
    assert same_address.status_code == 302


def test_a_successful_login_forgets_the_failures_before_it(client, staff):
    url, almost = "/accounts/login/", settings.AXES_FAILURE_LIMIT - 1
    for n in range(almost):
        attempt(client, url, staff.username, f"guess-{n}")
    assert attempt(client, url, staff.username, PASSWORD).status_code == 302
    client.logout()

    after = [attempt(client, url, staff.username, "typo") for _ in range(almost)]

    assert [response.status_code for response in after] == [200] * almost
    assert attempt(client, url, staff.username, PASSWORD).status_code == 302


def test_the_lockout_is_recorded_by_the_audit_app(client, staff):
    brute_force(client, "/accounts/login/", staff.username)

    event = AuditEvent.objects.get(action=AuditEvent.Action.LOCKED_OUT)
    assert (event.target_repr, event.ip_address) == (staff.username, ATTACKER)
    assert event.changes == {"failure_limit": settings.AXES_FAILURE_LIMIT}
    failed = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED)
    assert failed.count() == settings.AXES_FAILURE_LIMIT


def test_limit_and_cool_off_come_from_the_environment():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.AXES_FAILURE_LIMIT, settings.AXES_COOLOFF_TIME)"
    )
    env = os.environ | {"AXES_FAILURE_LIMIT": "3", "AXES_COOLOFF_MINUTES": "2"}

    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.split() == ["3", "0:02:00"]


PROXY = "10.0.0.5"  # a load balancer in front of the site
OWNER = "198.51.100.2"


def forwarded(client, username, password, chain, remote=PROXY):
    """A login through a proxy: X-Forwarded-For as the client sent it plus what the proxy added."""
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=chain,
    )


def locked_out_addresses():
    """The addresses the audit trail recorded lockouts for."""
    events = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKED_OUT)
    return set(events.values_list("ip_address", flat=True))


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(client, staff):
    # A new forged address on every guess: the lock still holds REMOTE_ADDR.
    for n in range(settings.AXES_FAILURE_LIMIT):
        forwarded(client, staff.username, f"guess-{n}", f"192.0.2.{n}", ATTACKER)

    locked = forwarded(Client(), staff.username, PASSWORD, "192.0.2.200", ATTACKER)
    # Forging the owner's address locks nobody else out.
    owner = forwarded(Client(), staff.username, PASSWORD, ATTACKER, OWNER)

    assert locked.status_code == 429
    assert owner.status_code == 302
    assert locked_out_addresses() == {ATTACKER}


def test_behind_one_proxy_the_lock_holds_the_client_not_the_proxy(
    client, staff, settings
):
    settings.TRUSTED_PROXIES = 1
    # Every request comes from the proxy; the proxy appends the client's address.
    for n in range(settings.AXES_FAILURE_LIMIT):
        forwarded(client, staff.username, f"guess-{n}", ATTACKER)

    # The owner, another client behind the same proxy, still gets in.
    owner = forwarded(Client(), staff.username, PASSWORD, OWNER)
    # The attacker cannot dodge the lock with a forged entry of its own:
    # the proxy appends the real address to the right of it.
    dodge = forwarded(Client(), staff.username, PASSWORD, f"192.0.2.1, {ATTACKER}")

    assert owner.status_code == 302
    assert dodge.status_code == 429
    assert locked_out_addresses() == {ATTACKER}
    login = AuditEvent.objects.get(action=AuditEvent.Action.LOGGED_IN)
    assert login.ip_address == OWNER


def test_behind_one_proxy_a_forged_entry_cannot_lock_another_address_out(
    client, staff, settings
):
    settings.TRUSTED_PROXIES = 1
    # The attacker names the owner's address; the proxy appends the real one.
    for n in range(settings.AXES_FAILURE_LIMIT):
        forwarded(client, staff.username, f"guess-{n}", f"{OWNER}, {ATTACKER}")

    owner = forwarded(Client(), staff.username, PASSWORD, OWNER)

    assert owner.status_code == 302
    assert locked_out_addresses() == {ATTACKER}


def test_trusted_proxies_come_from_the_environment_and_must_not_be_negative():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.TRUSTED_PROXIES)"
    )

    def run(value):
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=settings.BASE_DIR,
            env=os.environ | {"DJANGO_TRUSTED_PROXIES": value},
            capture_output=True,
            text=True,
        )

    assert run("2").stdout.split() == ["2"]
    refused = run("-1")
    assert refused.returncode != 0
    assert "DJANGO_TRUSTED_PROXIES must be 0 or more" in refused.stderr


def test_failures_without_a_client_address_lock_out_all_the_same(client, staff):
    """No address (a unix socket, no trusted proxy): one shared stand-in, not NULL."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "/accounts/login/", staff.username, f"guess-{n}", address="")

    right = attempt(client, "/accounts/login/", staff.username, PASSWORD, address="")

    assert right.status_code == 429
    assert AccessAttempt.objects.get().ip_address == "0.0.0.0"


def test_an_ipv6_client_is_counted_by_its_64(client, staff):
    """Each address of a /64 would start a count of its own."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(
            client, "/accounts/login/", staff.username, "guess", f"2001:db8:1:2::{n}"
        )

    right = attempt(
        Client(), "/accounts/login/", staff.username, PASSWORD, "2001:db8:1:2:ff::1"
    )
    elsewhere = attempt(
        Client(), "/accounts/login/", staff.username, PASSWORD, "2001:db8:1:3::1"
    )

    assert right.status_code == 429
    assert elsewhere.status_code == 302
    assert AccessAttempt.objects.get().ip_address == "2001:db8:1:2::"


def test_one_address_trying_many_usernames_is_locked_out(client, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 3
    for n in range(3):
        attempt(client, "/accounts/login/", f"name-{n}", "password1")
    ada = UserFactory(username="ada")

    here = attempt(Client(), "/accounts/login/", ada.username, PASSWORD)
    elsewhere = attempt(Client(), "/accounts/login/", ada.username, PASSWORD, OWNER)

    assert here.status_code == 429
    assert elsewhere.status_code == 302


def test_one_username_tried_from_many_addresses_is_locked_out(client, staff, settings):
    settings.AXES_USERNAME_FAILURE_LIMIT = 7
    for n in range(7):
        attempt(Client(), "/accounts/login/", staff.username, "guess", f"192.0.2.{n}")

    # Everywhere, its owner included: the price of the limit.
    owner = attempt(client, "/accounts/login/", staff.username, PASSWORD, OWNER)

    assert owner.status_code == 429


def test_a_login_that_succeeds_does_not_clear_the_addresses_other_failures(
    client, staff, settings
):
    """The attacker's own account must not clear his count across usernames."""
    settings.AXES_ADDRESS_FAILURE_LIMIT = 3
    own = UserFactory(username="mallory")
    for n in range(2):
        attempt(client, "/accounts/login/", f"name-{n}", "password1")
    assert (
        attempt(client, "/accounts/login/", own.username, PASSWORD).status_code == 302
    )
    client.logout()

    attempt(client, "/accounts/login/", "name-3", "password1")

    assert (
        attempt(Client(), "/accounts/login/", staff.username, PASSWORD).status_code
        == 429
    )


def test_the_stored_form_data_keeps_no_csrf_token_password_or_username(staff):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/").content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match
    token = match[1]

    client.post(
        "/accounts/login/",
        {"csrfmiddlewaretoken": token, "username": staff.username, "password": "guess"},
        REMOTE_ADDR=ATTACKER,
    )

    post_data = AccessAttempt.objects.get().post_data
    assert "csrfmiddlewaretoken=****" in post_data
    for secret in (token, "guess", staff.username):
        assert secret not in post_data
