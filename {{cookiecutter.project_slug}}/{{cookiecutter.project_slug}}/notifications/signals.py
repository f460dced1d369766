"""What the notifications app does when a user is created or asks for a password reset.

Connected by NotificationsConfig.ready(). The users app never imports this
one: it does not know that a welcome email exists, and it asks for a reset
email only by sending its password_reset_requested signal.
"""

from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from ..signal_tools.defers import defers
from ..users.models import User
from ..users.signals import password_reset_requested
{%- if cookiecutter.background == "none" %}
from ..web.after_response import after_response
{%- endif %}
from .models import Notification
{%- if cookiecutter.background == "none" %}
from .services import deliver
{%- else %}
from .tasks import enqueue_delivery
{%- endif %}


def deliver_on_commit(notification_id: int, using: str | None) -> None:
    """Deliver a notification once the transaction that wrote it commits, never on rollback."""
{%- if cookiecutter.background == "none" %}
    # And after the response: a request never waits for the mail server, so
    # how long a reset page takes does not tell whether the address has an
    # account (core/after_response.py).
    send = partial(deliver, notification_id)
    transaction.on_commit(partial(after_response, send), using=using)
{%- else %}
    # A worker sends it (tasks.py); a failure to queue it is logged, never raised.
    transaction.on_commit(partial(enqueue_delivery, notification_id), using=using)
{%- endif %}


@receiver(
    post_save,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="notifications.queue_welcome",
)
@defers("commit", {% if cookiecutter.background == "none" %}"response"{% else %}"task"{% endif %})
def queue_welcome(
    sender: type[User],
    instance: User,
    created: bool,
    raw: bool,
    using: str,
    **kwargs: Any,
) -> None:
    """Put the welcome email in the outbox, and deliver it once the signup commits.

    The row is written in the signup's transaction, so it cannot be lost;
    the email goes out only after commit, so a rolled-back signup sends none.
    """
    if not created or raw or not instance.email:
        return
    notification = Notification.objects.using(using).create(
        user=instance, kind=Notification.Kind.WELCOME
    )
    deliver_on_commit(notification.pk, using)


@receiver(password_reset_requested, dispatch_uid="notifications.queue_password_reset")
@defers("commit", {% if cookiecutter.background == "none" %}"response"{% else %}"task"{% endif %})
def queue_password_reset(
    sender: type, user: User, domain: str, use_https: bool, **kwargs: Any
) -> None:
    """Put a password reset email in the outbox, at most one per NOTIFICATIONS_RESET_COOLDOWN.

    The user's one reset row is set back to unsent, so asking again sends
    again once the cool-down since the last request has passed; a request
    inside it writes and sends nothing, and the page says the same. The row
    keeps the link's domain and scheme but never the token, which delivery
    makes from the user when it sends the email.
    """
    using = user._state.db
    now = timezone.now()
    fields = {
        "context": {"domain": domain, "protocol": "https" if use_https else "http"},
        # A new request: the cool-down and the sweep's grace period start again.
        "created_at": now,
        "claimed_at": None,
        "last_attempt_at": None,
        "sent_at": None,
        "attempts": 0,
        "last_error": "",
    }
    rows = Notification.objects.using(using).filter(
        user=user, kind=Notification.Kind.PASSWORD_RESET
    )
    notification_id = rows.values_list("pk", flat=True).first()
    if notification_id is None:
        try:
            with transaction.atomic(using=using):
                notification_id = (
                    Notification.objects.using(using)
                    .create(user=user, kind=Notification.Kind.PASSWORD_RESET, **fields)
                    .pk
                )
        except IntegrityError:  # a request racing this one wrote it first
            return
    else:
        # One conditional UPDATE: of two requests racing, at most one wins.
        cooled_down = now - timedelta(seconds=settings.NOTIFICATIONS_RESET_COOLDOWN)
        if not rows.filter(pk=notification_id, created_at__lte=cooled_down).update(
            **fields
        ):
            return
    deliver_on_commit(notification_id, using)
