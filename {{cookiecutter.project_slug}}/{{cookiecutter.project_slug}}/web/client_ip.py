"""The client's IP address, for the login lockout (django-axes) and the audit trail.

Behind a reverse proxy or load balancer, REMOTE_ADDR is the proxy's address:
keyed on it, a lockout would lock a username out for everyone, and the audit
trail would record the proxy. Each proxy appends the address it received the
request from to X-Forwarded-For, so with N trusted proxies in front of the
site the client is the N-th entry from the right; anything left of it came
from the client and may be forged. DJANGO_TRUSTED_PROXIES (settings
TRUSTED_PROXIES) is that N; with 0, the default, the header is never read.

Hand-written rather than django-ipware: the rule is these few lines, and a
count of proxies cannot be fooled by a header the client sends.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with trusted proxies their X-Forwarded-For entry.

    An empty string when there is none that parses as an IP address (a unix
    socket, a header shorter than the count of proxies, garbage).
    """
    proxies = settings.TRUSTED_PROXIES
    address = request.META.get("REMOTE_ADDR", "")
    if proxies:
        forwarded = request.headers.get("X-Forwarded-For", "")
        entries = [entry.strip() for entry in forwarded.split(",")] if forwarded else []
        # Too short: the request did not come through the proxies as configured.
        address = entries[-proxies] if len(entries) >= proxies else ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return ""
