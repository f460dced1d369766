import re
from io import BytesIO

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from PIL import Image

from ...audit.models import AuditEvent
from .. import selectors
from ..forms import SignUpForm
from ..models import Profile, User
from ..signals import password_reset_requested
from ..validators import AVATAR_MAX_BYTES
from .factories import UserFactory, signup_data
from .pages import assert_avatar_refused, assert_new_password_set

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # UserFactory's


def signed_in_user(client):
    return client.session.get(SESSION_KEY)


def png(name="avatar.png", size=(8, 8)):
    content = BytesIO()
    Image.new("RGB", size, "teal").save(content, "PNG")
    return SimpleUploadedFile(name, content.getvalue(), content_type="image/png")


@pytest.mark.parametrize(
    ("url", "fields"),
    [
        ("/accounts/signup/", ["username", "email", "password1", "password2"]),
        ("/accounts/login/", ["username", "password"]),
        ("/accounts/password_reset/", ["email"]),
    ],
)
def test_public_form_pages_have_labelled_fields_and_a_csrf_token(client, url, fields):
    response = client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in html
    for field in fields:
        assert f'<label for="id_{field}"' in html


def test_signup_creates_an_inactive_user_and_says_check_your_inbox(
    client, outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", signup_data(), follow=True)

    user = User.objects.get(username="ada")
    assert response.redirect_chain == [("/accounts/signup/done/", 302)]
    assert "Check your inbox" in response.content.decode()
    assert signed_in_user(client) is None
    assert not user.is_active  # until the welcome email's link is opened
    assert user.email == "ada@example.com"
    assert user.check_password("analytical-engine-1843")
    assert Profile.objects.filter(user=user).count() == 1
    assert [email.to for email in outbox] == [["ada@example.com"]]


def test_signup_with_a_taken_address_in_another_case_creates_nothing_and_says_the_same(
    client, outbox, django_capture_on_commit_callbacks
):
    UserFactory(username="first", email="ada@example.com")
    outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/", signup_data(email="ADA@Example.COM"), follow=True
        )

    assert response.redirect_chain == [("/accounts/signup/done/", 302)]
    assert "Check your inbox" in response.content.decode()
    assert not User.objects.filter(username="ada").exists()
    assert signed_in_user(client) is None
    # The owner is told, at the address the account has.
    [email] = outbox
    assert email.to == ["ada@example.com"]
    assert "tried to open an account" in email.body


def answer(response, email):
    """What a client sees of a signup's answer, its CSRF tokens and the address typed set aside."""
    body = re.sub(rb'value="[^"]{64}"', b'value="csrf"', response.content)
    body = body.replace(email.encode(), b"EMAIL")
    return (
        response.status_code,
        response.headers.get("Location"),
        sorted(response.cookies),
        body,
    )


@pytest.mark.parametrize(
    "form",
    [
        {},  # a signup that would succeed
        {"password2": "other-1843"},  # refused whatever the address
        {"password1": "short", "password2": "short"},
    ],
)
def test_a_taken_and_a_new_address_get_the_same_answer(form):
    UserFactory(username="first", email="taken@example.com")
    taken = Client().post(
        "/accounts/signup/", signup_data(email="TAKEN@example.com", **form)
    )
    new = Client().post(
        "/accounts/signup/", signup_data(email="new@example.com", **form)
    )

    assert answer(taken, "TAKEN@example.com") == answer(new, "new@example.com")


def test_signup_that_loses_a_race_for_the_email_tells_the_owner(
    client, outbox, monkeypatch, django_capture_on_commit_callbacks
):
    # The other signup commits between this signup's lookup and its INSERT:
    # the lookup sees no such address, the database constraint does.
    owner = UserFactory(username="first", email="ada@example.com")
    outbox.clear()
    looked_up = []

    def stale_first(email):
        looked_up.append(email)
        return None if len(looked_up) == 1 else owner

    monkeypatch.setattr(selectors, "account_with_email", stale_first)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/", signup_data(email="ADA@example.com")
        )

    assert response.status_code == 302
    assert response.url == "/accounts/signup/done/"
    assert len(looked_up) == 2
    assert not User.objects.filter(username="ada").exists()
    assert [email.to for email in outbox] == [["ada@example.com"]]


def test_signup_that_loses_a_race_for_the_username_says_so(client, monkeypatch):
    # The other signup commits between this form's checks and its INSERT.
    monkeypatch.setattr(
        SignUpForm, "clean_username", lambda form: form.data["username"]
    )
    monkeypatch.setattr(User, "validate_unique", lambda user, exclude=None: None)
    UserFactory(username="ada", email="first@example.com")

    response = client.post("/accounts/signup/", signup_data())

    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "This username was just taken."
    ]
    assert User.objects.filter(username="ada").count() == 1
    assert signed_in_user(client) is None


def test_signup_through_the_page_sends_user_signed_up_with_the_request(client):
    client.post(
        "/accounts/signup/", signup_data(), headers={"user-agent": "Test browser"}
    )

    # The audit app's receiver of user_signed_up records what only a request knows.
    event = AuditEvent.objects.get(action=AuditEvent.Action.SIGNED_UP)
    assert event.actor == User.objects.get(username="ada")
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == "Test browser"


def test_the_database_refuses_a_second_email_in_another_case(user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("copycat", user.email.upper(), "pass-1234")


def test_users_without_email_do_not_conflict():
    User.objects.create_user("first", "", "pass-1234")
    User.objects.create_user("second", "", "pass-1234")

    assert User.objects.filter(email="").count() == 2


def test_signup_refuses_a_username_already_used_in_another_case(client):
    UserFactory(username="Ada")

    response = client.post("/accounts/signup/", signup_data(username="ada"))

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert User.objects.filter(username__iexact="ada").count() == 1


def test_signup_refuses_passwords_that_differ(client):
    response = client.post("/accounts/signup/", signup_data(password2="other-1843"))

    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.exists()


def test_signup_requires_an_email(client):
    response = client.post("/accounts/signup/", signup_data(email=""))

    assert "email" in response.context["form"].errors
    assert not User.objects.exists()


def test_signup_sends_a_signed_in_user_to_the_profile(client, user):
    client.force_login(user)

    response = client.get("/accounts/signup/")

    assert response.status_code == 302
    assert response.url == "/accounts/profile/"


def test_login_with_the_right_password_goes_home(client, user):
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user(client) == str(user.pk)


def test_login_refuses_a_wrong_password(client, user):
    response = client.post(
        "/accounts/login/", {"username": user.username, "password": "wrong"}
    )

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert signed_in_user(client) is None


def test_logout_refuses_get(client, user):
    client.force_login(user)

    response = client.get("/accounts/logout/")

    assert response.status_code == 405
    assert signed_in_user(client) == str(user.pk)


def test_logout_by_post_signs_out_and_says_so(client, user):
    client.force_login(user)

    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert signed_in_user(client) is None
    assert "You are logged out." in response.content.decode()


def test_logout_without_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 403
    assert signed_in_user(client) == str(user.pk)


def test_profile_requires_login(client):
    response = client.get("/accounts/profile/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/accounts/profile/"


def test_profile_shows_the_signed_in_users_own_profile(client):
    ada = UserFactory(username="ada")
    Profile.objects.filter(user=ada).update(display_name="Ada Lovelace")
    grace = UserFactory(username="grace")
    Profile.objects.filter(user=grace).update(display_name="Grace Hopper")
    client.force_login(ada)

    response = client.get("/accounts/profile/")

    html = response.content.decode()
    assert response.context["profile"] == ada.profile
    assert "Ada Lovelace" in html
    assert "Grace Hopper" not in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_profile_has_no_url_with_an_id_to_guess(client, user):
    other = UserFactory()
    client.force_login(user)

    for url in (
        f"/accounts/profile/{other.pk}/",
        f"/accounts/profile/{other.username}/",
    ):
        assert client.get(url).status_code == 404


def test_editing_the_profile_saves_it_and_says_so(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Ada Lovelace",
            "bio": "Wrote the first program.",
            "location": "London",
            "website": "https://example.com/ada",
        },
        follow=True,
    )

    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert "Your profile is saved." in response.content.decode()
    profile = Profile.objects.get(user=user)
    assert profile.display_name == "Ada Lovelace"
    assert profile.location == "London"
    assert profile.website == "https://example.com/ada"


def test_posting_another_users_ids_changes_only_your_own_profile(client, user):
    other = UserFactory()
    Profile.objects.filter(user=other).update(display_name="Untouched")
    client.force_login(user)

    client.post(
        "/accounts/profile/",
        {
            "display_name": "Mallory",
            "user": other.pk,
            "user_id": other.pk,
            "id": other.profile.pk,
            "pk": other.profile.pk,
        },
    )

    assert Profile.objects.get(user=user).display_name == "Mallory"
    assert Profile.objects.get(user=other).display_name == "Untouched"
    assert Profile.objects.filter(user=user).count() == 1


def test_profile_errors_are_shown_next_to_the_field(client, user):
    client.force_login(user)

    response = client.post("/accounts/profile/", {"website": "not a url"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_website_error"' in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_website"', html)
    assert 'role="alert"' in html
    assert Profile.objects.get(user=user).website == ""


def test_profile_page_creates_a_missing_profile(client, muted_signals):
    user = UserFactory()  # signals muted: a legacy row with no profile
    client.force_login(user)

    response = client.get("/accounts/profile/")

    assert response.status_code == 200
    assert Profile.objects.filter(user=user).count() == 1


def test_password_change_takes_the_new_password(client, user):
    client.force_login(user)

    assert_new_password_set(
        client,
        "/accounts/password_change/",
        user,
        "a-brand-new-secret",
        done="/accounts/password_change/done/",
        old_password=PASSWORD,
    )


def test_password_reset_sends_password_reset_requested_and_no_email_itself(
    client, user, outbox, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://shop.example.com:8443"
    # The email is the notifications app's job (its tests follow the link).
    requests = []

    def listener(sender, **kwargs):
        requests.append(kwargs)

    password_reset_requested.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post(
                "/accounts/password_reset/", {"email": user.email.upper()}
            )
    finally:
        password_reset_requested.disconnect(listener)

    assert response.url == "/accounts/password_reset/done/"
    [request] = requests
    assert request["user"] == user
    # From SITE_URL, not from the request (see test_links.py).
    assert request["domain"] == "shop.example.com:8443"
    assert request["use_https"] is True
{%- if cookiecutter.background == "none" %}
    assert request["request"].path == "/accounts/password_reset/"
{%- else %}
    assert request["request"] is None  # sent by the task, on the worker
{%- endif %}
    assert "token" not in request
    assert outbox == []


def test_uploading_an_avatar_stores_it_and_shows_it(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/profile/", {"display_name": "Ada", "avatar": png()}, follow=True
    )

    profile = Profile.objects.get(user=user)
    assert response.redirect_chain == [("/accounts/profile/", 302)]
    assert re.fullmatch(r"avatars/[\w-]{16}\.png", str(profile.avatar))
    assert profile.avatar.storage.exists(str(profile.avatar))
    assert f'src="{profile.avatar.url}"' in response.content.decode()


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (
            SimpleUploadedFile("avatar.png", b"not an image", content_type="image/png"),
            "Upload a valid image.",
        ),
        (png("avatar.bmp"), "File extension “bmp” is not allowed."),
    ],
    ids=["not-an-image", "wrong-extension"],
)
def test_an_invalid_avatar_is_refused_next_to_the_field(client, user, upload, error):
    client.force_login(user)

    response = client.post("/accounts/profile/", {"avatar": upload})

    assert_avatar_refused(response, user, error)
    assert 'id="id_avatar_error"' in response.content.decode()


def test_an_avatar_over_the_size_limit_is_refused(client, user):
    client.force_login(user)
    # A valid image, made too big by bytes after its end that readers ignore.
    image = png().read() + bytes(AVATAR_MAX_BYTES)
    too_big = SimpleUploadedFile("avatar.png", image, content_type="image/png")

    response = client.post("/accounts/profile/", {"avatar": too_big})

    assert_avatar_refused(response, user, "the largest allowed is 2.0")


def test_clearing_the_avatar_empties_the_field(client, user):
    client.force_login(user)
    client.post("/accounts/profile/", {"avatar": png()})

    client.post("/accounts/profile/", {"avatar-clear": "on"})

    assert not Profile.objects.get(user=user).avatar
