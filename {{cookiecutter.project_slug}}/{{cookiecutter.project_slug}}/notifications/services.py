"""Writes of the notifications app: rows put in the outbox, delivered once they commit.

The receivers in signals.py call these. A row is written in the transaction
of the change that causes it, so it cannot be lost; its email goes out only
after commit (outbox.deliver), so a rolled-back change sends none.
"""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..users import selectors as users
from ..users.models import User
{%- if cookiecutter.background == "none" %}
from ..web.after_response import after_response
{%- endif %}
from . import tracing
from .models import Notification
{%- if cookiecutter.background == "none" %}
from .outbox import deliver
{%- else %}
from .tasks import enqueue_delivery
{%- endif %}


def deliver_on_commit(notification_id: int, using: str | None) -> None:
    """Deliver a notification once the transaction that wrote it commits, never on rollback."""
{%- if cookiecutter.background == "none" %}
    # And after the response: a request never waits for the mail server, so
    # how long a reset page takes does not tell whether the address has an
    # account (after_response).
    send = partial(deliver, notification_id)
    transaction.on_commit(partial(after_response, send), using=using)
{%- else %}
    # A worker sends it (tasks.py); a failure to queue it is logged, never raised.
    transaction.on_commit(partial(enqueue_delivery, notification_id), using=using)
{%- endif %}


def queue_welcome(user: User, *, using: str) -> None:
    """Put the welcome email of a new user in the outbox, and deliver it once that commits."""
    notification = Notification.objects.using(using).create(
        user=user,
        kind=Notification.Kind.WELCOME,
        # Inside the queueing receiver's span: its delivery joins the trace.
        traceparent=tracing.current_traceparent(),
    )
    deliver_on_commit(notification.pk, using)


def queue_password_reset(user: User, *, domain: str, use_https: bool) -> None:
    """Put a password reset email in the outbox, at most one per NOTIFICATIONS_RESET_COOLDOWN.

    The row keeps the link's domain and scheme but never the token, which
    delivery makes when it sends the email.
    """
    queue_again(
        user,
        Notification.Kind.PASSWORD_RESET,
        context={"domain": domain, "protocol": "https" if use_https else "http"},
        cooldown=settings.NOTIFICATIONS_RESET_COOLDOWN,
    )


def tell_owner_of_taken_address(user: User) -> None:
    """Email the owner of an address someone signed up with again: one email either way.

    An account still waiting for its signup's confirmation (anyone may have
    typed the address, and never confirmed it) gets its welcome email again,
    with a fresh link that opens it: the account_exists email's "log in" and
    "reset" links cannot work for it, and the address would stay blocked.
    Any other account gets the account_exists notice. Both are sent at most
    once per NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN; the signup page answers
    the same in every case.
    """
    if users.awaits_its_signup_confirmation(user):
        queue_again(
            user,
            Notification.Kind.WELCOME,
            context={},
            cooldown=settings.NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN,
        )
    else:
        queue_account_exists(user)


def queue_account_exists(user: User) -> None:
    """Tell the owner of an address that someone tried to sign up with it, at most
    once per NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN.

    The signup page answers as for a new address; this email is the only
    place that says the address has an account, and only its owner reads it.
    """
    queue_again(
        user,
        Notification.Kind.ACCOUNT_EXISTS,
        context={},
        cooldown=settings.NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN,
    )


def queue_again(
    user: User, kind: Notification.Kind, *, context: dict[str, str], cooldown: int
) -> None:
    """Put an email that can be asked for again in the outbox, at most one per `cooldown` seconds.

    The user's one row of that kind is set back to unsent, so asking again
    sends again once the cool-down since the last request has passed; a
    request inside it writes and sends nothing.
    """
    using = user._state.db
    now = timezone.now()
    fields = {
        "context": context,
        # A new request: the cool-down and the sweep's grace period start again.
        "created_at": now,
        "claimed_at": None,
        "last_attempt_at": None,
        "sent_at": None,
        "attempts": 0,
        "last_error": "",
        "traceparent": tracing.current_traceparent(),
    }
    rows = Notification.objects.using(using).filter(user=user, kind=kind)
    notification_id = rows.values_list("pk", flat=True).first()
    if notification_id is None:
        try:
            with transaction.atomic(using=using):
                notification_id = (
                    Notification.objects.using(using)
                    .create(user=user, kind=kind, **fields)
                    .pk
                )
        except IntegrityError:  # a request racing this one wrote it first
            return
    else:
        # One conditional UPDATE: of two requests racing, at most one wins.
        cooled_down = now - timedelta(seconds=cooldown)
        if not rows.filter(pk=notification_id, created_at__lte=cooled_down).update(
            **fields
        ):
            return
    deliver_on_commit(notification_id, using)
