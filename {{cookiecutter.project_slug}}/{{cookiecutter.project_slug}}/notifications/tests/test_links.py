"""Links in emails start with SITE_URL (DJANGO_SITE_URL): a request cannot shape them.

The attack: a request with a forged Host header, which ALLOWED_HOSTS lets
through (a wildcard, or a second name of the site), and a forged
X-Forwarded-Proto, which SECURE_PROXY_SSL_HEADER trusts when the proxy does
not overwrite it. Were the links built from the request, the reset link
would point to the attacker's host, and the token would go to them with the
victim's click.
"""

import re

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

FORGED = {"HTTP_HOST": "evil.example", "HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def site(settings):
    """A configured site, and settings that let the forged headers through."""
    settings.SITE_URL = "http://shop.example.com:8080"
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings.SITE_URL


def links_in(email):
    return re.findall(r"\w+://\S+", email.body)


def test_a_forged_host_cannot_shape_the_reset_link(client, user, outbox, site):
    outbox.clear()

    response = client.post("/accounts/password_reset/", {"email": user.email}, **FORGED)

    assert response.status_code == 302
    [email] = outbox
    [link] = links_in(email)
    assert link.startswith(f"{site}/accounts/reset/")
    assert "evil.example" not in email.body
    # The link works on the configured site.
    path = link.removeprefix(site)
    assert client.get(path, follow=True).context["validlink"] is True


def test_a_forged_host_cannot_shape_the_welcome_links(signup, outbox, site):
    response = signup(**FORGED)

    assert response.status_code == 302
    [email] = outbox
    links = links_in(email)
    assert len(links) == 2  # confirm the address, or reset the password
    assert all(link.startswith(f"{site}/accounts/") for link in links)
    assert "evil.example" not in email.body
