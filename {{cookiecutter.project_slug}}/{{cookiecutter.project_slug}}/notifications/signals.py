"""What the notifications app does when another app creates a user.

Connected by NotificationsConfig.ready(). The users app never imports this
one: it does not know that a welcome email exists.
"""

from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from ..core.signals import defers
from .models import Notification
{%- if cookiecutter.use_celery %}
from .tasks import enqueue_delivery
{%- else %}
from .services import deliver
{%- endif %}


@receiver(
    post_save,
    sender=settings.AUTH_USER_MODEL,
    dispatch_uid="notifications.queue_welcome",
)
@defers("commit"{% if cookiecutter.use_celery %}, "task"{% endif %})
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
{%- if cookiecutter.use_celery %}
    # A worker sends it (tasks.py); a broker error is logged, never raised.
    transaction.on_commit(partial(enqueue_delivery, notification.pk), using=using)
{%- else %}
    transaction.on_commit(partial(deliver, notification.pk), using=using)
{%- endif %}
