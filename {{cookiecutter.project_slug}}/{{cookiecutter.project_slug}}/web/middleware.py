import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)


class PrivatePagesMiddleware:
    """Mark every response to a signed-in user as never to be cached.

    Each page shows who is logged in, and some show more (the profile, the
    audit entries): a shared cache or the browser's back button must not keep
    them. Django's never_cache on every view would do the same, as long as no
    view is forgotten; this covers Django's own views too (password change).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            # Cache-Control: max-age=0, no-cache, no-store, must-revalidate, private
            add_never_cache_headers(response)
        return response


class UntrustedProxyWarningMiddleware:
    """Log a warning, once per process, when a request carries X-Forwarded-For
    while DJANGO_TRUSTED_PROXIES is 0.

    The header means a proxy is in front, so with the count at 0 every
    client has the proxy's address (web/client_ip.py): anyone can lock any
    user out for everyone, and the audit trail records the proxy. Nothing
    else would tell the operator. Once per process: a warning per request
    would drown the log.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.warned = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            not self.warned
            and not settings.TRUSTED_PROXIES
            and "x-forwarded-for" in request.headers
        ):
            self.warned = True
            logger.warning(
                "Requests arrive with X-Forwarded-For, but DJANGO_TRUSTED_PROXIES "
                "is 0: every client behind the proxy has the proxy's address, and "
                "anyone can lock any user out for everyone. Set "
                "DJANGO_TRUSTED_PROXIES to the number of proxies that append to "
                "X-Forwarded-For (1 for one nginx or load balancer)."
            )
        return self.get_response(request)
