"""Locust users for benchmarks/production.py: each one signs up, again and again.

Every signup is the real form, as a browser behind a TLS proxy sends it:
GET the page for the CSRF token, POST it with the cookie, expect the 302 to
"check your inbox".
Secure cookies go back by hand: over plain HTTP a cookie jar keeps them.
"""

import re
import uuid

from locust import HttpUser, task

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PROXY = {"X-Forwarded-Proto": "https"}


class SignUp(HttpUser):
    def on_start(self):
        # The address the browser sees: the proxy's, over HTTPS.
        self.origin = self.host.replace("http://", "https://", 1)

    @task
    def sign_up(self):
        self.client.cookies.clear()  # a new visitor each time
        page = self.client.get("/accounts/signup/", headers=PROXY, name="signup GET")
        token = TOKEN.search(page.text)[1]
        cookie = f"csrftoken={page.cookies['csrftoken']}"
        username = f"u{uuid.uuid4().hex[:16]}"
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
