"""What the notifications app does when a user is created or asks for a password reset.

Connected by NotificationsConfig.ready(). The users app never imports this
one: it does not know that a welcome email exists, and it asks for a reset
email only by sending its password_reset_requested signal.
"""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from ..core.signals import defers
from ..users.models import User
from ..users.signals import password_reset_requested
from .models import Notification
{%- if cookiecutter.background == "celery" %}
from .tasks import enqueue_delivery
{%- else %}
from .services import deliver
{%- endif %}


def deliver_on_commit(notification: Notification, using: str | None) -> None:
    """Deliver a notification once the transaction that wrote it commits, never on rollback."""
{%- if cookiecutter.background == "celery" %}
    # A worker sends it (tasks.py); a broker error is logged, never raised.
    transaction.on_commit(partial(enqueue_delivery, notification.pk), using=using)
{%- else %}
    transaction.on_commit(partial(deliver, notification.pk), using=using)
{%- endif %}


@receiver(
    post_save,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="notifications.queue_welcome",
)
@defers("commit"{% if cookiecutter.background == "celery" %}, "task"{% endif %})
def queue_welcome(
    sender: type[User],
    instance: User,
    created: bool,
    raw: bool,
    using: str,
    **kwargs: object,
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
    deliver_on_commit(notification, using)


@receiver(password_reset_requested, dispatch_uid="notifications.queue_password_reset")
@defers("commit"{% if cookiecutter.background == "celery" %}, "task"{% endif %})
def queue_password_reset(
    sender: type, user: User, domain: str, use_https: bool, **kwargs: object
) -> None:
    """Put a password reset email in the outbox, and deliver it once the request commits.

    The user's one reset row is set back to unsent, so asking again sends
    again. The row keeps the link's domain and scheme but never the token,
    which delivery makes from the user when it sends the email.
    """
    using = user._state.db
    notification, _ = Notification.objects.using(using).update_or_create(
        user=user,
        kind=Notification.Kind.PASSWORD_RESET,
        defaults={
            "context": {"domain": domain, "protocol": "https" if use_https else "http"},
            # A new request: the sweep's grace period starts again.
            "created_at": timezone.now(),
            "claimed_at": None,
            "last_attempt_at": None,
            "sent_at": None,
            "attempts": 0,
            "last_error": "",
        },
    )
    deliver_on_commit(notification, using)
