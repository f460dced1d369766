from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEvent(models.Model):
    """One entry of the audit trail; never changed once written.

    The target is kept as text (label, id, readable name), so an entry
    outlives what it is about: the trail still shows a deleted user.
    """

    class Action(models.TextChoices):
        SIGNED_UP = "signed_up", "Signed up"
        LOGGED_IN = "logged_in", "Logged in"
        LOGIN_FAILED = "login_failed", "Login failed"
        LOCKED_OUT = "locked_out", "Locked out"
        EMAIL_CHANGED = "email_changed", "Email changed"
        EMAIL_CONFIRMED = "email_confirmed", "Email confirmed"
        USERNAME_CHANGED = "username_changed", "Username changed"
        GROUPS_ADDED = "groups_added", "Added to groups"
        GROUPS_REMOVED = "groups_removed", "Removed from groups"
        USER_DELETED = "user_deleted", "User deleted"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        PRIVILEGES_CHANGED = "privileges_changed", "Staff or superuser status changed"
        PERMISSIONS_ADDED = "permissions_added", "Permissions added"
        PERMISSIONS_REMOVED = "permissions_removed", "Permissions removed"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Who did it, where known (a login, a signup); null when a signal cannot
    # know it (a save does not say who called it) or the actor was deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=32, choices=Action)
    target_type = models.CharField(max_length=100)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    changes = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.target_repr or self.target_id}"
