from typing import Any, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, router, transaction
from django.db.models.functions import Lower

from .avatars import avatar_upload_to
from .validators import validate_avatar_extension, validate_avatar_size


class User(AbstractUser):
    """The project's user. Custom from day one, so it can grow without a migration saga."""

    # When the owner of the address opened the confirmation link of the
    # welcome email (users.views.confirm_email); empty until then, and again
    # once the address changes.
    email_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)

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

    # The email as loaded from the database (from_db); None for a new user.
    _loaded_email: str | None

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Any, values: Any, **kwargs: Any
    ) -> Self:
        user = super().from_db(db, field_names, values, **kwargs)
        # The address as loaded, so save() can tell it changed without a query.
        user._loaded_email = user.__dict__.get("email")
        return user

    def save(self, **kwargs: Any) -> None:
        # A new address is not confirmed, whoever changes it (the admin, a
        # form, the shell): the confirmation was of the old one.
        update_fields = kwargs.get("update_fields")
        email_written = update_fields is None or "email" in update_fields
        loaded = getattr(self, "_loaded_email", None)
        if email_written and loaded is not None and loaded != self.email:
            self.email_confirmed_at = None
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "email_confirmed_at"}
        # Django saves a single-table model without a transaction, so in
        # autocommit mode the rows that post_save receivers write (the audit
        # trail, the welcome notification) would commit on their own. One
        # transaction makes the save and those rows all or nothing. Inside a
        # transaction already (services, the admin) it costs nothing; alone
        # it wraps the UPDATE in a BEGIN and a COMMIT.
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(**kwargs)
        if email_written and "email" in self.__dict__:
            self._loaded_email = self.email


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
    # extension and size. ProfileForm stores it re-encoded (users.avatars),
    # under a random name. users.signals removes a replaced file after commit.
    avatar = models.ImageField(
        upload_to=avatar_upload_to,
        blank=True,
        validators=[validate_avatar_extension, validate_avatar_size],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()
