from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


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
