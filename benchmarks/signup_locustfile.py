"""Locust users for the benchmarks and the two-node test: each one signs up, again and again.

Every signup is the real form, as a browser behind a TLS proxy sends it:
GET the page for the CSRF token, POST it with the cookie, expect the 302 to
"check your inbox".
Secure cookies go back by hand: over plain HTTP a cookie jar keeps them.

Two environment variables, both optional (tests/test_two_nodes.py,
benchmarks/nodes.py): SIGNUP_RESULTS, a file that gets one line per signup
tried, "username status" (0: no answer at all); SIGNUP_LIMIT, the number of
signups after which locust stops; SIGNUP_CA_BUNDLE, the certificate an
https --host is checked against (the tests' nginx has a self-signed one).
"""

import os
import re
import uuid

import gevent
from locust import HttpUser, task
from locust.exception import StopUser

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PROXY = {"X-Forwarded-Proto": "https"}
RESULTS = os.environ.get("SIGNUP_RESULTS")
LIMIT = int(os.environ.get("SIGNUP_LIMIT") or 0)
CA_BUNDLE = os.environ.get("SIGNUP_CA_BUNDLE")
# Signups started and finished by all users of this process (one process:
# gevent runs the users one at a time between requests).
counts = {"started": 0, "finished": 0}


def record(username, status):
    """One signup tried: its line in SIGNUP_RESULTS."""
    counts["finished"] += 1
    if RESULTS:
        with open(RESULTS, "a") as results:
            results.write(f"{username} {status}\n")


class SignUp(HttpUser):
    def on_start(self):
        # The address the browser sees: the proxy's, over HTTPS.
        self.origin = self.host.replace("http://", "https://", 1)
        if CA_BUNDLE:
            self.client.verify = CA_BUNDLE

    @task
    def sign_up(self):
        if LIMIT and counts["started"] >= LIMIT:
            raise StopUser()
        counts["started"] += 1
        username = f"u{uuid.uuid4().hex[:16]}"
        status = "exception"
        try:
            status = self.try_sign_up(username)
        finally:
            record(username, status)
            if LIMIT and counts["finished"] >= LIMIT:
                # From a greenlet of its own: quitting stops this user's too.
                gevent.spawn(self.environment.runner.quit)

    def try_sign_up(self, username):
        """Sign up as `username`; return the POST's status, or the GET's if it failed."""
        self.client.cookies.clear()  # a new visitor each time
        page = self.client.get("/accounts/signup/", headers=PROXY, name="signup GET")
        if page.status_code != 200:
            return f"GET-{page.status_code}"
        token = TOKEN.search(page.text)[1]
        cookie = f"csrftoken={page.cookies['csrftoken']}"
        password = f"Pw-{uuid.uuid4().hex}"
        with self.client.post(
            "/accounts/signup/",
            data={
                "csrfmiddlewaretoken": token,
                "username": username,
                "email": f"{username}@example.com",
                "password1": password,
                "password2": password,
            },
            headers={**PROXY, "Cookie": cookie, "Origin": self.origin},
            allow_redirects=False,
            name="signup POST",
            catch_response=True,
        ) as response:
            location = response.headers.get("Location")
            if response.status_code != 302 or location != "/accounts/signup/done/":
                response.failure(f"status {response.status_code}, to {location}")
            return response.status_code
