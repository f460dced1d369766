"""The welcome email's link proves that the address belongs to whoever signed up.

Anyone can sign up with someone else's address: until its owner opens the
link, the address is unconfirmed, and no email to it carries a word the
stranger chose.
"""

import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ...audit.models import AuditEvent
from .. import services
from ..models import Profile, User
from ..signals import email_confirmed
from ..tokens import email_confirmation_token
from .factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Words a stranger signing up with someone else's address could choose.
STRANGER = {
    "username": "Claim-your-prize-at-evil-example",
    "display_name": "Your bank: call +1 555 0100",
}


def signup(client, username="ada", email="ada@example.com"):
    return client.post(
        "/accounts/signup/",
        {
            "username": username,
            "email": email,
            "password1": "analytical-engine-1843",
            "password2": "analytical-engine-1843",
        },
    )


def links_in(email):
    return re.findall(r"https?://\S+", email.body)


def confirmation_path(email):
    """The path of the confirmation link in a welcome email, which starts with SITE_URL."""
    [link] = [link for link in links_in(email) if "/accounts/confirm/" in link]
    assert link.startswith(settings.SITE_URL + "/")
    return link.removeprefix(settings.SITE_URL)


def confirm(client, path, **extra):
    """Open the link, then press the page's button: what the owner does."""
    page = client.get(path)
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    return client.post(path, **extra)


def test_pressing_the_button_confirms_the_address_and_sends_email_confirmed(
    client, outbox
):
    signup(client)
    user = User.objects.get(username="ada")
    assert user.email_confirmed_at is None
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    email_confirmed.connect(listener)
    try:
        path = confirmation_path(outbox[0])
        response = confirm(client, path, REMOTE_ADDR="203.0.113.9", follow=True)
    finally:
        email_confirmed.disconnect(listener)

    # The account waited for this since its signup: it is open, its owner in.
    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert "ada@example.com is confirmed" in response.content.decode()
    user.refresh_from_db()
    assert user.email_confirmed_at is not None
    assert user.is_active
    assert client.session[SESSION_KEY] == str(user.pk)
    [signal] = received
    assert signal["user"] == user
    assert signal["request"].path.startswith("/accounts/confirm/")
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.EMAIL_CONFIRMED)
    assert event.actor == user
    assert event.target_id == str(user.pk)
    assert event.changes == {"email": "ada@example.com"}
    assert event.ip_address == "203.0.113.9"


def test_opening_the_link_changes_nothing(client, outbox):
    """A mail scanner opens every link: that must not confirm a stranger's signup."""
    signup(client)
    path = confirmation_path(outbox[0])
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    email_confirmed.connect(listener)
    try:
        scans = [Client().get(path), Client().head(path), Client().get(path)]
    finally:
        email_confirmed.disconnect(listener)

    assert [scan.status_code for scan in scans] == [200, 200, 200]
    assert received == []
    assert User.objects.get(username="ada").email_confirmed_at is None
    assert not AuditEvent.objects.filter(action="email_confirmed").exists()
    # The owner's link still works after the scans.
    assert confirm(client, path).status_code == 302
    assert User.objects.get(username="ada").email_confirmed_at is not None


def test_the_button_needs_the_pages_csrf_token(outbox):
    signup(Client())
    path = confirmation_path(outbox[0])
    browser = Client(enforce_csrf_checks=True)

    forged = Client(enforce_csrf_checks=True).post(path)
    assert forged.status_code == 403
    assert User.objects.get(username="ada").email_confirmed_at is None

    page = browser.get(path).content.decode()
    [csrf] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert browser.post(path, {"csrfmiddlewaretoken": csrf}).status_code == 302
    assert User.objects.get(username="ada").email_confirmed_at is not None


def test_the_link_confirms_once_and_then_says_so(client, outbox):
    signup(client)
    path = confirmation_path(outbox[0])
    confirm(client, path)

    again_opened, again_pressed = client.get(path), client.post(path)

    for again in (again_opened, again_pressed):
        assert again.status_code == 200
        assert "confirmed already" in again.content.decode()
    assert AuditEvent.objects.filter(action="email_confirmed").count() == 1


def test_a_forged_or_expired_link_confirms_nothing(client, outbox, monkeypatch):
    signup(client)
    path = confirmation_path(outbox[0])
    uid, token = path.strip("/").split("/")[-2:]
    ada = User.objects.get(username="ada")
    grace = UserFactory(username="grace")

    forged = [
        f"/accounts/confirm/{uid}/{token[:-1]}x/",  # a changed token
        f"/accounts/confirm/not-base64/{token}/",
        f"/accounts/confirm/{urlsafe_base64_encode(force_bytes(grace.pk))}/{token}/",  # Ada's token for Grace
        # A password reset token is not a confirmation token.
        f"/accounts/confirm/{uid}/{default_token_generator.make_token(ada)}/",
    ]
    for method in (client.get, client.post):
        assert [method(url).status_code for url in forged] == [400] * len(forged)
    # Past PASSWORD_RESET_TIMEOUT (3 days by default) the link has expired.
    later = datetime.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    monkeypatch.setattr(email_confirmation_token, "_now", lambda: later)
    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400

    assert not User.objects.exclude(email_confirmed_at=None).exists()
    assert not AuditEvent.objects.filter(action="email_confirmed").exists()


def test_a_wrong_token_gets_one_answer_whatever_the_accounts_state(client):
    """Else any token would tell anyone which account ids exist and are confirmed."""
    unconfirmed = UserFactory(username="ada")
    confirmed = confirmed_user(username="grace")
    missing = confirmed.pk + 1000
    pages = [
        client.get(f"/accounts/confirm/{urlsafe_base64_encode(force_bytes(pk))}/x-y/")
        for pk in (unconfirmed.pk, confirmed.pk, missing)
    ]

    assert {page.status_code for page in pages} == {400}
    assert len({page.content for page in pages}) == 1


def test_a_link_for_the_old_address_does_not_confirm_a_new_one(client, outbox):
    signup(client)
    path = confirmation_path(outbox[0])
    ada = User.objects.get(username="ada")
    ada.email = "ada@new.example.com"
    ada.save()

    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    ada.refresh_from_db()
    assert ada.email_confirmed_at is None


def test_the_welcome_email_carries_no_word_a_stranger_chose(client, outbox):
    signup(client, username=STRANGER["username"], email="victim@example.com")
    signup(Client(), username="someone-else", email="other@example.com")

    first, second = outbox
    assert STRANGER["username"].lower() not in first.body.lower()
    assert STRANGER["username"].lower() not in first.subject.lower()
    # The same words for both, whoever signed up: only the links differ.
    assert re.sub(r"https?://\S+", "LINK", first.body) == re.sub(
        r"https?://\S+", "LINK", second.body
    )
    assert first.subject == second.subject
    assert all(link.startswith(settings.SITE_URL + "/") for link in links_in(first))


def test_a_reset_email_to_an_unconfirmed_address_carries_no_word_a_stranger_chose(
    client, outbox
):
    # An account of an earlier release, whose signup opened it at once.
    UserFactory(username=STRANGER["username"], email="victim@example.com")
    Profile.objects.filter(user__email="victim@example.com").update(
        display_name=STRANGER["display_name"]
    )
    outbox.clear()

    # The owner of the address takes the account back with a reset.
    Client().post("/accounts/password_reset/", {"email": "victim@example.com"})

    [email] = outbox
    for chosen in STRANGER.values():
        assert chosen.lower() not in email.body.lower()
        assert chosen.lower() not in email.subject.lower()
    assert "/accounts/reset/" in email.body


def test_a_reset_email_to_a_confirmed_address_names_the_account(client, outbox):
    signup(client)
    confirm(client, confirmation_path(outbox[0]))
    outbox.clear()

    client.post("/accounts/password_reset/", {"email": "ada@example.com"})

    [email] = outbox
    assert email.body.startswith("Hello ada,")


def log_in(client, password="analytical-engine-1843", username="ada"):
    return client.post("/accounts/login/", {"username": username, "password": password})


def login_answer(response):
    """What a login tells whoever sent it: status and page, its CSRF token aside."""
    page = re.sub(r'value="[^"]*"', 'value=""', response.content.decode())
    return response.status_code, page


def test_a_signup_cannot_log_in_until_its_address_is_confirmed(client, outbox):
    signup(client)
    welcome = outbox[0]

    refused = log_in(client)
    # The right password of an account waiting for its link gets the answer
    # of a wrong password: telling them apart would tell an attacker who
    # signed up with an address whether it was new (the account was made)
    # or taken (it was not).
    wrong = log_in(Client(), password="wrong-password-1843")
    assert login_answer(refused) == login_answer(wrong)
    assert refused.status_code == 200
    assert "Please enter a correct username and password" in refused.content.decode()
    assert "confirm" not in refused.content.decode().lower()
    assert SESSION_KEY not in client.session
    # Nor can a reset open it: only the link of the welcome email does.
    outbox.clear()
    client.post("/accounts/password_reset/", {"email": "ada@example.com"})
    assert outbox == []

    confirm(Client(), confirmation_path(welcome))

    assert log_in(client).status_code == 302
    assert client.session[SESSION_KEY] == str(User.objects.get(username="ada").pk)


def test_a_login_does_not_tell_whether_a_signup_made_an_account(client, outbox):
    """The attack: sign up with an invented username, the address to test and a
    password, then log in with them. Made (the address was new) or not (it was
    taken), the login answers the same."""
    UserFactory(username="owner", email="taken@example.com")
    signup(client, username="probe-new", email="new@example.com")
    signup(client, username="probe-taken", email="taken@example.com")
    assert User.objects.filter(username="probe-new").exists()
    assert not User.objects.filter(username="probe-taken").exists()

    new = log_in(Client(), username="probe-new")
    taken = log_in(Client(), username="probe-taken")

    assert login_answer(new) == login_answer(taken)
    assert new.status_code == 200


def test_a_new_link_does_not_reopen_an_account_that_had_logged_in(client, outbox):
    """An admin deactivated it after it was used: even a link made while it is
    inactive confirms its address only, and logs nobody in."""
    ada = UserFactory(username="ada")
    assert log_in(Client(), password="correct horse battery staple").status_code == 302
    ada.refresh_from_db()
    ada.is_active = False
    ada.save()
    token = email_confirmation_token.make_token(ada)
    path = f"/accounts/confirm/{urlsafe_base64_encode(force_bytes(ada.pk))}/{token}/"

    response = confirm(client, path)

    assert response.status_code == 302
    assert SESSION_KEY not in client.session
    ada.refresh_from_db()
    assert not ada.is_active
    assert ada.email_confirmed_at is not None
    assert log_in(Client(), password="correct horse battery staple").status_code == 200


def test_an_account_an_admin_deactivated_cannot_use_its_old_link(client, outbox):
    ada = UserFactory(username="ada")  # active: the admin or create_user made it
    path = confirmation_path(outbox[-1])
    ada.is_active = False
    ada.save()

    assert client.get(path).status_code == 400
    assert client.post(path).status_code == 400
    ada.refresh_from_db()
    assert not ada.is_active
    assert ada.email_confirmed_at is None


def test_confirming_an_active_accounts_address_logs_nobody_in(client, outbox):
    ada = UserFactory(username="ada")
    path = confirmation_path(outbox[-1])

    response = confirm(client, path, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert SESSION_KEY not in client.session
    ada.refresh_from_db()
    assert ada.is_active
    assert ada.email_confirmed_at is not None


def test_the_link_of_an_active_account_is_the_one_earlier_releases_made():
    """Links sent before the token covered inactive accounts keep working."""
    ada = UserFactory(username="ada")
    earlier = f"{ada.pk}{ada.email}{ada.email_confirmed_at}1234"

    assert email_confirmation_token._make_hash_value(ada, 1234) == earlier


def test_home_and_profile_say_whether_the_address_is_confirmed(client, outbox):
    ada = UserFactory(username="ada", email="ada@example.com")
    client.force_login(ada)
    assert "ada@example.com is not confirmed yet" in client.get("/").content.decode()
    assert "not confirmed yet" in client.get("/accounts/profile/").content.decode()

    confirm(client, confirmation_path(outbox[-1]))

    assert "ada@example.com is confirmed" in client.get("/").content.decode()
    profile = client.get("/accounts/profile/").content.decode()
    assert "(confirmed)" in profile
    assert "not confirmed" not in profile


def confirmed_user(**fields):
    user = UserFactory(**fields)
    User.objects.filter(pk=user.pk).update(email_confirmed_at=timezone.now())
    return User.objects.get(pk=user.pk)


def test_saving_a_new_address_makes_it_unconfirmed():
    user = confirmed_user(username="ada")
    user.email = "ada@new.example.com"
    user.save()
    assert User.objects.get(pk=user.pk).email_confirmed_at is None

    user = confirmed_user(username="grace")
    user.email = "grace@new.example.com"
    user.save(update_fields=["email"])
    assert User.objects.get(pk=user.pk).email_confirmed_at is None


def test_a_save_that_keeps_the_address_keeps_it_confirmed():
    user = confirmed_user(username="ada")
    user.first_name = "Ada"
    user.save()
    user.email = "ada@new.example.com"  # changed in memory, not written
    user.save(update_fields=["first_name"])

    saved = User.objects.get(pk=user.pk)
    assert saved.email == "ada@example.com"
    assert saved.email_confirmed_at is not None


def test_changing_the_address_in_the_admin_makes_it_unconfirmed(admin_client):
    user = confirmed_user(username="ada")
    url = f"/admin/users/user/{user.pk}/change/"
    data = FormValues.of(admin_client.get(url).content.decode())
    assert data["email"] == "ada@example.com"

    response = admin_client.post(url, data | {"email": "ada@new.example.com"})

    assert response.status_code == 302, response.context["errors"]
    user.refresh_from_db()
    assert user.email == "ada@new.example.com"
    assert user.email_confirmed_at is None


class FormValues(HTMLParser):
    """What a browser would post back from a page's form, as it was loaded."""

    @classmethod
    def of(cls, html):
        parser = cls()
        parser.feed(html)
        return parser.values

    def __init__(self):
        super().__init__()
        self.values, self.select, self.textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.add(name, attrs.get("value", ""))
        elif tag == "select":
            self.select = name
        elif tag == "option" and self.select and "selected" in attrs:
            self.add(self.select, attrs.get("value", ""))
        elif tag == "textarea":
            self.textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self.textarea:
            self.values[self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def add(self, name, value):
        if name in self.values:
            previous = self.values[name]
            self.values[name] = (
                [*previous, value] if isinstance(previous, list) else [previous, value]
            )
        else:
            self.values[name] = value


def test_confirming_twice_confirms_once():
    user = UserFactory(username="ada")
    again = User.objects.get(pk=user.pk)  # a second click, loaded before the first

    assert services.confirm_email(user) is True
    assert services.confirm_email(again) is False

    assert AuditEvent.objects.filter(action="email_confirmed").count() == 1


def test_an_address_changed_since_the_link_was_checked_stays_unconfirmed():
    user = UserFactory(username="ada")
    User.objects.filter(pk=user.pk).update(email="ada@new.example.com")

    assert services.confirm_email(user) is False
    assert User.objects.get(pk=user.pk).email_confirmed_at is None
