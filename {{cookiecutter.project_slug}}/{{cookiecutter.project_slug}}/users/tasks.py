"""Celery tasks of the users app: the password reset page's lookup.

The reset page (forms.PasswordResetForm) looks nothing up: it queues
`request_password_resets` with the address typed, whatever it is, and a
worker looks the address up and sends password_reset_requested. So no
time, nor the moment the web process closes the connection, depends on
whether the address has an account.
"""

import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


def enqueue_password_resets(email: str, *, domain: str, use_https: bool) -> None:
    """Queue the lookup of a reset page's address; if the broker is unreachable, log and go on.

    The page answers the same either way. The address is not logged: it may
    be anybody's.
    """
    try:
        request_password_resets.delay(email, domain=domain, use_https=use_https)
    except Exception:
        logger.exception("A password reset request was not queued")


@shared_task(name="users.request_password_resets")
def request_password_resets(email: str, *, domain: str, use_https: bool) -> None:
    """Look the address up and send password_reset_requested for its accounts."""
    services.request_password_resets(email, domain=domain, use_https=use_https)
