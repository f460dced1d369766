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
from ..users.signals import password_reset_requested
from .models import Notification
{%- if cookiecutter.background == "none" %}
from .services import deliver
{%- else %}
from .tasks import enqueue_delivery
{%- endif %}


def deliver_on_commit(notification, using):
    """Deliver a notification once the transaction that wrote it commits, never on rollback."""
{%- if cookiecutter.background == "none" %}
    transaction.on_commit(partial(deliver, notification.pk), using=using)
{%- else %}
    # A worker sends it (tasks.py); a failure to queue it is logged, never raised.
    transaction.on_commit(partial(enqueue_delivery, notification.pk), using=using)
{%- endif %}


@receiver(
    post_save,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="notifications.queue_welcome",
)
@defers("commit"{% if cookiecutter.background != "none" %}, "task"{% endif %})
def queue_welcome(sender, instance, created, raw, using, **kwargs):
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
@defers("commit"{% if cookiecutter.background != "none" %}, "task"{% endif %})
def queue_password_reset(sender, user, domain, use_https, **kwargs):
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
