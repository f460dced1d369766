from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, router, transaction
from django.db.models.functions import Lower

from .validators import validate_avatar_extension, validate_avatar_size


class User(AbstractUser):
    """The project's user. Custom from day one, so it can grow without a migration saga."""

    class Meta(AbstractUser.Meta):
        constraints = [
            # One account per email address, whatever its case; users without
            # an email (the admin allows them) do not conflict.
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="unique_user_email_ci",
                violation_error_message="An account with this email address already exists.",
            ),
        ]

    def save(self, **kwargs: Any) -> None:
        # Django saves a single-table model without a transaction, so in
        # autocommit mode the rows that post_save receivers write (the audit
        # trail, the welcome notification) would commit on their own. One
        # transaction makes the save and those rows all or nothing. Inside a
        # transaction already (services, the admin) it costs nothing; alone
        # it wraps the UPDATE in a BEGIN and a COMMIT.
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(**kwargs)


class Profile(models.Model):
    """What a user tells about themselves; created by a signal when the user is."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(max_length=150, blank=True)
    bio = models.TextField(blank=True)
    location = models.CharField(max_length=100, blank=True)
    website = models.URLField(blank=True)
    # Pillow checks that the upload is an image; the validators check its
    # extension and size. users.signals removes a replaced file after commit.
    avatar = models.ImageField(
        upload_to="avatars/",
        blank=True,
        validators=[validate_avatar_extension, validate_avatar_size],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()
