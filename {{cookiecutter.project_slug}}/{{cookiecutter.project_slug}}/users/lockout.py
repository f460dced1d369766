"""How the login lockout (django-axes) counts: by which address, and up to which limits.

`lockout_address` is AXES_CLIENT_IP_CALLABLE and `LockoutHandler` is
AXES_HANDLER (config/settings/base.py). Failures are counted three ways
(AXES_LOCKOUT_PARAMETERS), each with its own limit within the cool-off:

- a username at an address: AXES_FAILURE_LIMIT (5), the ordinary lockout;
- an address across usernames: AXES_ADDRESS_FAILURE_LIMIT (20), against one
  password tried on many accounts;
- a username across addresses: AXES_USERNAME_FAILURE_LIMIT (50), against
  guesses spread over many addresses. Higher than the others: reaching it
  locks the owner out too, which should take many addresses, not one.
"""

import ipaddress
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest

from ..web.client_ip import client_ip

# The address the lockout counts a client by when it cannot tell the client's
# (see lockout_address). No client has it: 0.0.0.0 only ever means "no address".
UNKNOWN_CLIENT = "0.0.0.0"


def lockout_address(request: HttpRequest) -> str:
    """The client's address as the lockout counts it: never empty, IPv6 by /64.

    client_ip() gives an empty string when it cannot tell the address
    (gunicorn on a unix socket with DJANGO_TRUSTED_PROXIES left at 0, a
    missing or garbage X-Forwarded-For). django-axes would store that as
    NULL, which matches no later lookup: every failure would start a new
    count of 1 and nothing would ever be locked. Every such client shares
    one stand-in address instead, so their failures count together.

    An IPv6 client is usually given a whole /64 and picks any address in
    it: counted one by one, each new address would start a new count. The
    lockout counts the /64's network address (2001:db8:1:2::) instead.
    """
    address = client_ip(request)
    if not address:
        return UNKNOWN_CLIENT
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return address


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, with a limit of its own for each count.

    django-axes compares the highest of the counts with one limit: a username
    would be locked out everywhere as soon as it is at one address.
    """

    def get_failures(self, request: HttpRequest, credentials: Any = None) -> int:
        """The count at this username and address, or AXES_FAILURE_LIMIT once
        any count reaches its own limit (django-axes then refuses)."""
        limit = get_failure_limit(request, credentials)
        # In the order of AXES_LOCKOUT_PARAMETERS.
        limits = [
            limit,
            settings.AXES_ADDRESS_FAILURE_LIMIT,
            settings.AXES_USERNAME_FAILURE_LIMIT,
        ]
        counts = [
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        if any(count >= own for count, own in zip(counts, limits, strict=True)):
            return max(counts[0], limit)
        return int(counts[0])

    def reset_user_attempts(self, request: HttpRequest, credentials: Any = None) -> int:
        """A login that succeeds (AXES_RESET_ON_SUCCESS) clears its username's
        failures at its address only: clearing every count it matches would
        let an attacker clear his address's count across usernames by logging
        in to an account of his own."""
        pair = self.filter_user_attempts(request, credentials)[0]
        count, _ = pair.delete()
        return int(count)
