from django.conf import settings
from django.db import models


class Notification(models.Model):
    """The outbox: one row per message to send, written with the change that causes it.

    The row commits or rolls back with that change, so a message can be
    neither lost nor sent for something that never happened. `sent_at` stays
    empty until delivery succeeds. One row per user and kind: a kind that can
    be asked for again (a password reset, the notice of a signup with a taken
    address) sets its row back to unsent.
    """

    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome email"
        PASSWORD_RESET = "password_reset", "Password reset email"
        ACCOUNT_EXISTS = "account_exists", "Account exists email"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When a delivery last started or was last queued: a retry waits from
    # then, not from created_at.
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # What the email needs besides the user, e.g. the domain of a reset link.
    # Never a secret: a reset token is made when the email is sent.
    context = models.JSONField(default=dict, blank=True)
    # The W3C trace context of the change that queued it, with tracing on
    # (tracing.py): its delivery joins that trace, wherever and whenever it runs.
    traceparent = models.CharField(max_length=55, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="one_notification_per_kind"
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(sent_at__isnull=True),
                name="notification_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.user}"
