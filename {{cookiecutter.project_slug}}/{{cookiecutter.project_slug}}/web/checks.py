"""Deployment check: `manage.py check --deploy` says what DJANGO_TRUSTED_PROXIES must be.

web.I001 (an Info: it does not fail `--fail-level WARNING`): with the
count at 0, the default, the client's address is REMOTE_ADDR. Right when
clients reach gunicorn directly; behind a reverse proxy or load balancer,
every client would have the proxy's address: one lockout for all of them.
The settings cannot tell which, so the check says it on every deploy check.
"""

from typing import Any

from django.conf import settings
from django.core import checks


def check_trusted_proxies(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.TRUSTED_PROXIES:
        return []
    return [
        checks.Info(
            "DJANGO_TRUSTED_PROXIES is 0: the client's address is REMOTE_ADDR, "
            "X-Forwarded-For is never read.",
            hint=(
                "Behind a reverse proxy or load balancer, set DJANGO_TRUSTED_PROXIES "
                "to the number of proxies that append to X-Forwarded-For (1 for one "
                "nginx or load balancer): at 0, every client has the proxy's "
                "address, and anyone can lock any user out for everyone."
            ),
            id="web.I001",
        )
    ]
