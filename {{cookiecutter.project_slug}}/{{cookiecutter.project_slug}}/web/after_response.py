"""Work that waits until the response is sent: after_response(func).

Without a background worker, an email sent when a request commits makes the
response wait for the mail server; and how long a password reset page takes
would tell an attacker whether the address has an account.
after_response(func) runs func once the response of the current request has
been sent instead, and at once outside a request (a shell, a command, a
script), where nobody waits for a response.

Django sends request_started before it calls the view and request_finished
when the server closes the response: a WSGI server (runserver, gunicorn)
does that after it has written the last byte, the ASGI handler after it has
sent the body. The client has its whole response by then; the server's
thread or worker is still busy with the work, so it costs capacity, not
latency. Django's test client sends request_finished before it returns the
response, so a test sees the work done.

Hand-written (about twenty lines) because Django has no public "after the
response" hook; a background runner (a worker process) is the way to
take the work out of the web process altogether.
"""

import logging
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.core.signals import request_finished, request_started
from django.db import connections
from django.dispatch import receiver

logger = logging.getLogger(__name__)

# The work waiting for the current request's response; None outside a request.
pending: ContextVar[list[Callable[[], object]] | None] = ContextVar(
    "after_response", default=None
)


def after_response(func: Callable[[], object]) -> None:
    """Run func once the current request's response is sent, or now outside a request."""
    work = pending.get()
    if work is None:
        func()
    else:
        work.append(func)


@receiver(request_started, dispatch_uid="web.collect_after_response")
def collect_after_response(sender: object, **kwargs: Any) -> None:
    """Start collecting the work that waits until this request's response is sent."""
    pending.set([])


@receiver(request_finished, dispatch_uid="web.run_after_response")
def run_after_response(sender: object, **kwargs: Any) -> None:
    """Run the work that waited for the response, now that the server has sent it.

    Each piece runs even if one before it fails: a failure is logged, never
    raised into the server, which has nobody left to tell.

    Django's own request_finished receiver, close_old_connections, may already
    have run; the connection the work opened is closed (or kept, by
    CONN_MAX_AGE) here again, as at the end of any request. A connection
    inside an atomic block is left alone: that is a test's transaction (a
    server has none open after the response), which Django's test client
    also keeps open.
    """
    work = pending.get()
    pending.set(None)  # what the work itself defers now runs at once
    if not work:
        return
    try:
        for func in work:
            try:
                func()
            except Exception:
                logger.exception("Work after the response failed: %r", func)
    finally:
        for connection in connections.all(initialized_only=True):
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
