"""The request being served, for code that a request reaches without being given it.

The audit trail's receivers run on model signals (a save in the admin, a
group's permissions changed), which do not say who made the change or from
where: they read it here (audit.services.record). None outside a request
(a command, a task, a test without the client).
"""

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

current_request: ContextVar[HttpRequest | None] = ContextVar(
    "current_request", default=None
)


class CurrentRequestMiddleware:
    """Make the request available through current_request while it is served."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)
