"""A person's visit, in Debian's headless Chromium against the live server.

Run them alone with `pytest -m browser`; SCREENSHOT_DIR=folder keeps a
screenshot of each page.
"""

import re
import time

import pytest
from django.conf import settings
from PIL import Image, ImageDraw

from ..models import Profile, User

pytestmark = pytest.mark.browser

PASSWORD = "analytical-engine-1843"


@pytest.fixture
def avatar(tmp_path):
    """A small PNG on disk, for the file picker."""
    path = tmp_path / "ada.png"
    image = Image.new("RGB", (192, 192), "#0b5cad")
    ImageDraw.Draw(image).ellipse((36, 36, 156, 156), fill="#f5a623")
    image.save(path)
    return path


def confirmation_path(outbox):
    """The path of the link in the welcome email, once it is sent (after the response)."""
    deadline = time.monotonic() + 10
    while not outbox and time.monotonic() < deadline:
        time.sleep(0.05)
    [email] = outbox
    [link] = re.findall(
        rf"{re.escape(settings.SITE_URL)}(/accounts/confirm/\S+)", email.body
    )
    return link


def test_a_visitor_signs_up_edits_the_profile_and_logs_out_and_in(page, avatar, outbox):
    page.open("/")
    assert "Welcome to" in page.text("h1")
    page.screenshot("home-visitor")

    page.open("/accounts/signup/")
    page.fill("Username", "ada")
    page.fill("Email", "ada@example.com")
    page.fill("Password", PASSWORD)
    page.fill("Password confirmation", PASSWORD)
    page.screenshot("signup")
    page.press("Create my account")

    # Whether the address is new or has an account, the same page: the
    # email tells which, and only its link opens the account.
    assert page.path == "/accounts/signup/done/"
    assert "Check your inbox" in page.text("h1")
    assert page.driver.get_cookie("sessionid") is None
    page.screenshot("signup-done")
    page.open(confirmation_path(outbox))
    page.screenshot("confirm-email")
    page.press("Confirm my email address")

    # The profile page shows the profile that the post_save receiver created.
    assert page.path == "/accounts/profile/"
    assert "Welcome, ada!" in page.text(".messages")
    assert "post_save" in page.text(".profile-card")
    user = User.objects.get(username="ada")
    assert Profile.objects.filter(user=user).count() == 1
    page.screenshot("profile-new")

    page.fill("Display name", "Ada Lovelace")
    page.fill("Location", "London")
    page.fill("Bio", "Wrote the first program, for an engine not yet built.")
    page.fill("Website", "https://example.com/ada")
    page.attach("Avatar", avatar)
    page.press("Save my profile")

    assert page.path == "/accounts/profile/"
    assert "Your profile is saved." in page.text(".messages")
    assert "Ada Lovelace" in page.text(".profile-card")
    page.wait_for_image(".profile-card img.avatar")
    profile = Profile.objects.get(user=user)
    assert profile.location == "London"
    assert re.fullmatch(r"avatars/[\w-]{16}\.png", str(profile.avatar))
    page.screenshot("profile")

    page.open("/")
    story = page.text(".signals-story")
    assert "created your profile" in story
    assert "That email was sent at" in story
    assert "the audit app has recorded" in story
    page.screenshot("home")

    page.press("Log out ada")
    assert page.path == "/"
    assert "You are logged out." in page.text(".messages")

    page.open("/accounts/login/")
    page.fill("Username", "ada")
    page.fill("Password", PASSWORD)
    page.press("Log in")
    assert page.path == "/"
    assert "Hello, ada" in page.text("h1")


def test_a_wrong_password_is_refused(page, user):
    page.open("/accounts/login/")
    page.fill("Username", user.username)
    page.fill("Password", "not-the-password")
    page.press("Log in")

    assert page.path == "/accounts/login/"
    assert "Please enter a correct username and password" in page.text()
    assert page.driver.get_cookie("sessionid") is None
    page.screenshot("login-refused")


def test_the_content_security_policy_blocks_an_injected_inline_script(page):
    page.open("/injected-script/")

    assert page.driver.title == "untouched"
    violations = page.csp_violations()
    assert len(violations) == 1
    assert "inline script" in violations[0]
    assert "has been blocked" in violations[0]


def test_too_many_wrong_passwords_lock_the_login_out(page, user, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        page.open("/accounts/login/")
        page.fill("Username", user.username)
        page.fill("Password", f"guess-{n}")
        page.press("Log in")

    assert "Too many failed logins" in page.text("h1")
    page.screenshot("login-locked-out")

    page.open("/accounts/login/")
    page.fill("Username", user.username)
    page.fill("Password", "correct horse battery staple")  # UserFactory's
    page.press("Log in")

    assert "Too many failed logins" in page.text("h1")
    assert page.driver.get_cookie("sessionid") is None
