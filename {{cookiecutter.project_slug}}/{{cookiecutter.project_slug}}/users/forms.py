from functools import partial
from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from ..web.after_response import after_response
from .avatars import reencode_avatar
from .models import Profile
from .signals import password_reset_requested
from .validators import (
    AVATAR_EXTENSIONS,
    AVATAR_MAX_BYTES,
    validate_avatar_extension,
    validate_avatar_size,
)


class SignUpForm(UserCreationForm):
    """Username, email and password twice; validates only, the view calls sign_up()."""

    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send your welcome email here. One account per address.",
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self) -> str:
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"])
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email address already exists.", code="unique"
            )
        return email


class ProfileForm(forms.ModelForm):
    """The fields a user may edit on their own profile, and nothing else."""

    class Meta:
        model = Profile
        fields = ("display_name", "bio", "location", "website", "avatar")
        widgets = {
            "bio": forms.Textarea(attrs={"rows": 4}),
            "avatar": forms.ClearableFileInput(attrs={"accept": "image/*"}),
        }
        help_texts = {
            "avatar": (
                f"An image ({', '.join(AVATAR_EXTENSIONS)}) "
                f"of {AVATAR_MAX_BYTES // 2**20} MB at most."
            )
        }

    def clean_avatar(self) -> File | bool | None:
        """Store a new avatar re-encoded by Pillow: no metadata, nothing appended."""
        avatar = self.cleaned_data["avatar"]
        if not isinstance(avatar, UploadedFile):  # unchanged, or cleared (False)
            return avatar
        # The upload's own name and size are checked here: the stored file
        # gets a new name and new bytes.
        validate_avatar_extension(avatar)
        validate_avatar_size(avatar)
        return reencode_avatar(avatar)


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's password reset form, except that it sends a signal instead of an email.

    The notifications app receives password_reset_requested and emails the
    link through its outbox. As with Django's form, the page that follows is
    the same whether the address has an account or not; here it also takes
    the same time, because everything that depends on the address waits
    until the response is sent.
    """

    def save(  # type: ignore[override]  # PasswordResetView passes keywords only
        self,
        domain_override: str | None = None,
        use_https: bool = False,
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        """Ask for the reset emails of the address once the response is sent.

        Takes what PasswordResetView passes, but the link's host and scheme
        come from SITE_URL, never from the request (its Host and
        X-Forwarded-Proto headers are the client's to forge). The lookup,
        the outbox row and the email all wait for the response
        (web/after_response.py), so its timing cannot tell whether the
        address has an account; outside a request they happen at once.
        """
        site = urlsplit(settings.SITE_URL)
        after_response(
            partial(
                self.request_resets,
                self.cleaned_data["email"],
                domain=domain_override or site.netloc,
                use_https=site.scheme == "https",
                request=request,
            )
        )

    def request_resets(
        self, email: str, *, domain: str, use_https: bool, request: HttpRequest | None
    ) -> None:
        """Send password_reset_requested for each account of the address that may reset its password.

        The email templates and the token generator are left to the receiver,
        which makes the token with default_token_generator when the email is
        sent, and never stores it.
        """
        for user in self.get_users(email):
            password_reset_requested.send(
                sender=type(self),
                user=user,
                domain=domain,
                use_https=use_https,
                request=request,
            )
