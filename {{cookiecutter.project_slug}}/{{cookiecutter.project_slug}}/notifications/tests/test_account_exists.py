"""The notice to an address's owner when someone signs up with it: sent through the outbox."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from ...users.models import User
from ...users.signals import signup_with_taken_email
from ...users.tests.factories import UserFactory, signup_data
from ..models import Notification

pytestmark = pytest.mark.django_db(transaction=True)

# Words the person who typed the address chose: none may reach its owner.
TYPED = {"username": "Claim-your-prize-at-evil-example", "password1": "evil-1843-prize"}


@pytest.fixture
def ada(outbox):
    """An account whose welcome email is out of the outbox."""
    user = UserFactory(username="ada", email="ada@example.com")
    outbox.clear()
    return user


def sign_up_with(email, client=None, **fields):
    data = signup_data(**{"username": "someone", "email": email, **fields})
    return (client or Client()).post("/accounts/signup/", data)


def notices_of(user):
    return Notification.objects.filter(user=user, kind=Notification.Kind.ACCOUNT_EXISTS)


def test_a_signup_with_a_taken_address_emails_its_owner_after_commit(ada, outbox):
    response = sign_up_with("ADA@example.com")

    assert response.status_code == 302
    [notice] = notices_of(ada)
    assert notice.sent_at is not None
    [email] = outbox
    assert email.to == ["ada@example.com"]
    assert email.subject == (
        f"Someone tried to sign up on {settings.PROJECT_NAME} with your address"
    )
    links = re.findall(r"https?://\S+", email.body)
    assert links == [
        settings.SITE_URL + "/accounts/login/",
        settings.SITE_URL + "/accounts/password_reset/",
    ]


def test_the_notice_carries_no_word_from_the_signup_form(ada, outbox):
    sign_up_with(
        "ada@example.com",
        username=TYPED["username"],
        password1=TYPED["password1"],
        password2=TYPED["password1"],
    )

    [email] = outbox
    for typed in TYPED.values():
        assert typed.lower() not in email.body.lower()
        assert typed.lower() not in email.subject.lower()


def test_more_signups_inside_the_cool_down_send_nothing_more(ada, outbox, settings):
    settings.SIGNUP_ATTEMPTS_PER_EMAIL = 100
    statuses = [sign_up_with("ada@example.com").status_code for _ in range(3)]

    assert statuses == [302, 302, 302]
    assert len(outbox) == 1
    assert notices_of(ada).count() == 1


def test_after_the_cool_down_the_same_row_sends_again(ada, outbox, settings):
    settings.NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN = 0
    sign_up_with("ada@example.com")
    first = notices_of(ada).get()

    sign_up_with("ada@example.com")

    second = notices_of(ada).get()
    assert second.pk == first.pk
    assert second.sent_at > first.sent_at
    assert len(outbox) == 2


def test_the_receiver_queues_the_notice_for_the_user_of_the_signal(ada, outbox):
    signup_with_taken_email.send(sender=type(ada), user=ada, request=None)

    assert [email.to for email in outbox] == [["ada@example.com"]]


def test_a_rolled_back_signup_sends_no_notice(ada, outbox, rollback):
    rollback(
        lambda: signup_with_taken_email.send(sender=type(ada), user=ada, request=None)
    )

    assert outbox == []
    assert not notices_of(ada).exists()


def test_an_address_a_stranger_signed_up_with_gets_its_welcome_link_again(
    outbox, settings
):
    """A stranger signed up with the address and never confirmed: the owner's own
    signup sends the welcome email again, whose fresh link opens the account
    (the account_exists email's login and reset links could not)."""
    settings.NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN = 0
    sign_up_with("victim@example.com", username="stranger")
    stranger = User.objects.get(username="stranger")
    first = Notification.objects.get(user=stranger, kind=Notification.Kind.WELCOME)
    outbox.clear()

    response = sign_up_with("VICTIM@example.com", username="owner")

    assert response.status_code == 302
    assert not notices_of(stranger).exists()
    [email] = outbox
    assert email.to == ["victim@example.com"]
    again = Notification.objects.get(user=stranger, kind=Notification.Kind.WELCOME)
    assert again.pk == first.pk
    assert (first.sent_at or 0) != (again.sent_at or 0)
    links = re.findall(r"https?://\S+", email.body)
    [link] = [link for link in links if "/accounts/confirm/" in link]
    client = Client()
    client.post(link.removeprefix(settings.SITE_URL))
    stranger.refresh_from_db()
    assert stranger.is_active
    assert stranger.email_confirmed_at is not None


def test_the_welcome_link_is_sent_again_at_most_once_per_cool_down(outbox, settings):
    settings.SIGNUP_ATTEMPTS_PER_EMAIL = 100
    sign_up_with("victim@example.com", username="stranger")
    outbox.clear()

    for _ in range(3):
        sign_up_with("victim@example.com", username="owner")

    assert outbox == []


def test_an_account_that_was_used_gets_the_notice_not_a_link(ada, outbox):
    """An admin deactivated it after it logged in: no link may reopen it."""
    User.objects.filter(pk=ada.pk).update(is_active=False, last_login=timezone.now())

    sign_up_with("ada@example.com")

    assert notices_of(ada).count() == 1
    [email] = outbox
    assert "tried to sign up" in email.subject
    assert "/accounts/confirm/" not in email.body
