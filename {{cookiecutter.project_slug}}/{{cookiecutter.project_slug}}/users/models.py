from collections.abc import Iterable
from typing import Any, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models, router, transaction
from django.db.models.functions import Lower
from django.utils import timezone

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

    # The values of these fields as the database holds them (from_db, then
    # each save), so receivers can tell what a save changes without a query:
    # the audit trail records the change, a new email is not confirmed.
    # The password's hash and the admin flags too: the audit trail records
    # that they changed (never the hash).
    remembered_fields = ("email", "username", "password", "is_staff", "is_superuser")
    _saved_values: dict[str, Any]

    @classmethod
    def from_db(
        cls, db: str | None, field_names: Any, values: Any, **kwargs: Any
    ) -> Self:
        user = super().from_db(db, field_names, values, **kwargs)
        user._saved_values = user.remembered_values()
        return user

    def remembered_values(
        self, update_fields: Iterable[str] | None = None
    ) -> dict[str, Any]:
        """The remembered fields loaded or set on this instance, with their values.

        Given a save's update_fields, only those that save writes.
        """
        # From __dict__, not getattr(): reading a deferred field costs a query.
        return {
            name: self.__dict__[name]
            for name in self.remembered_fields
            if name in self.__dict__
            and (update_fields is None or name in update_fields)
        }

    def saved_changes(
        self, update_fields: Iterable[str] | None = None
    ) -> dict[str, tuple[Any, Any]]:
        """The remembered fields a save writes with a new value: name -> (saved value, new value).

        Only the fields the save writes (all, or update_fields) and that were
        loaded from the database count: a new user, or a deferred field, has
        no saved value to compare with. No query.
        """
        saved = getattr(self, "_saved_values", {})
        return {
            name: (saved[name], value)
            for name, value in self.remembered_values(update_fields).items()
            if name in saved and saved[name] != value
        }

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
        # The row holds these values now: what the next save compares with.
        written = self.remembered_values(kwargs.get("update_fields"))
        self._saved_values = {**getattr(self, "_saved_values", {}), **written}


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


class AvatarUpload(models.Model):
    """An avatar upload, kept for an hour to limit uploads per user and per address.

    Decoding an image costs far more than sending it (services.avatar_upload_allowed).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # As the login lockout counts it (users/lockout.py): never empty, IPv6 by /64.
    address = models.GenericIPAddressField()
    uploaded_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"avatar upload by {self.user_id} from {self.address}"


class SignupAttempt(models.Model):
    """A signup form sent, kept for an hour to limit signups per address and per email address.

    Each one may cost a password hash and an email (services.signup_allowed).
    The email address typed is kept as a keyed hash only: it may be anybody's.
    """

    # As the login lockout counts it (users/lockout.py): never empty, IPv6 by /64.
    address = models.GenericIPAddressField()
    # services.email_key() of the address typed; empty if none was.
    email_key = models.CharField(max_length=64, blank=True, db_index=True)
    attempted_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"signup attempt from {self.address}"
