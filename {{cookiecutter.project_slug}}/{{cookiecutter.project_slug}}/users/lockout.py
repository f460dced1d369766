"""What the login lockout (django-axes) counts failures by: AXES_CLIENT_IP_CALLABLE."""

from django.http import HttpRequest

from ..web.client_ip import client_ip

# The address the lockout counts a client by when it cannot tell the client's
# (see lockout_address). No client has it: 0.0.0.0 only ever means "no address".
UNKNOWN_CLIENT = "0.0.0.0"


def lockout_address(request: HttpRequest) -> str:
    """The client's address as the lockout counts it: never empty.

    client_ip() gives an empty string when it cannot tell the address
    (gunicorn on a unix socket with DJANGO_TRUSTED_PROXIES left at 0, a
    missing or garbage X-Forwarded-For). django-axes would store that as
    NULL, which matches no later lookup: every failure would start a new
    count of 1 and nothing would ever be locked. Every such client shares
    one stand-in address instead, so their failures count together.
    """
    return client_ip(request) or UNKNOWN_CLIENT
