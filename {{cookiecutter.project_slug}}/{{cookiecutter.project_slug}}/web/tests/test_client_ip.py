"""web.client_ip: the client's address, which a client cannot choose by sending a header."""

import pytest
from django.test import RequestFactory

from ..client_ip import client_ip


def request(remote="10.0.0.5", forwarded=None):
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_without_trusted_proxies_the_header_is_never_read(settings):
    settings.TRUSTED_PROXIES = 0
    assert client_ip(request(forwarded="203.0.113.9")) == "10.0.0.5"
    assert client_ip(request(remote="unix-socket")) == ""


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        # Left of the proxies' entries is whatever the client sent.
        (1, "192.0.2.1, 203.0.113.9", "203.0.113.9"),
        (2, "192.0.2.1,203.0.113.9, 10.0.0.4", "203.0.113.9"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
        # Fewer entries than proxies, or garbage: no address, not the proxy's.
        (2, "203.0.113.9", ""),
        (1, None, ""),
        (1, "not-an-address", ""),
    ],
)
def test_behind_proxies_the_client_is_the_entry_the_first_proxy_added(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXIES = proxies
    assert client_ip(request(forwarded=forwarded)) == expected
