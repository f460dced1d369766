"""Headers that keep pages safe in the browser: CSP, and no caching of signed-in pages."""

import pytest
from django.conf import settings
from django.utils.csp import CSP

from config.settings import base

pytestmark = pytest.mark.django_db


def policy(response):
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = (part.split() for part in response[CSP.HEADER_ENFORCE].split(";"))
    return {name: sources for name, *sources in directives}


@pytest.mark.parametrize("url", ["/", "/accounts/login/", "/admin/login/"])
def test_every_page_carries_the_strict_policy(client, url):
    response = client.get(url)

    assert policy(response) == {
        "default-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }


def test_the_policy_is_set_in_the_base_settings_for_every_environment():
    assert settings.SECURE_CSP == base.SECURE_CSP
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in base.MIDDLEWARE


def test_an_injected_inline_script_would_be_blocked(client):
    """Scripts fall back to default-src: this site's files only, no inline, no eval.

    The browser tests show a browser enforcing it (test_csp_blocks_...).
    """
    sources = policy(client.get("/"))
    script_sources = sources.get("script-src", sources["default-src"])

    assert script_sources == ["'self'"]
    assert all(CSP.UNSAFE_INLINE not in values for values in sources.values())
    assert "'nonce-" not in client.get("/")[CSP.HEADER_ENFORCE]


NEVER_CACHED = {"no-store", "no-cache", "private", "max-age=0", "must-revalidate"}


def cache_control(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


@pytest.mark.parametrize(
    "url", ["/", "/accounts/profile/", "/accounts/password_change/", "/admin/"]
)
def test_pages_for_a_signed_in_user_are_never_cached(client, user, url):
    user.is_staff = True
    user.save()
    client.force_login(user)

    response = client.get(url)

    assert response.status_code == 200
    assert cache_control(response) >= NEVER_CACHED


def test_the_login_redirect_of_a_new_session_is_not_cached(client, user):
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": "correct horse battery staple"},
    )

    assert response.status_code == 302
    assert {"no-store", "private"} <= cache_control(response)


def test_the_home_page_of_a_visitor_may_be_cached(client):
    assert "no-store" not in cache_control(client.get("/"))
