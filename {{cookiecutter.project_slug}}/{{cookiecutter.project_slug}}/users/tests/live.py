"""A browser's form post over real HTTP, for the tests that run against live_server."""

import http.client
import re
from urllib.parse import urlencode, urlsplit

# Bounds a test that fails by hanging; it measures nothing.
TIMEOUT = 30


def post_form(base_url, path, data):
    """Open a form page and post it with its CSRF token, like a browser; return the response.

    Each request on its own connection, read to its end before returning.
    """
    server = urlsplit(base_url)

    def request(method, body=None, headers=None):
        connection = http.client.HTTPConnection(
            server.hostname, server.port, timeout=TIMEOUT
        )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    page, html = request("GET")
    cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    found = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, html
    token = found[1]
    response, _ = request(
        "POST",
        body=urlencode({**data, "csrfmiddlewaretoken": token.decode()}),
        headers={
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    return response
