{% if cookiecutter.background == "none" -%}
from functools import partial
{% endif -%}
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

{% if cookiecutter.background == "none" -%}
from ..web.after_response import after_response
from . import services
{% endif -%}
from .avatars import reencode_avatar
from .models import Profile
{% if cookiecutter.background != "none" -%}
from .tasks import enqueue_password_resets
{% endif -%}
from .validators import (
    AVATAR_EXTENSIONS,
    AVATAR_MAX_BYTES,
    validate_avatar_extension,
    validate_avatar_size,
)


class SignUpForm(UserCreationForm):
    """Username, email and password twice; validates only, the view calls sign_up().

    It never says that an address has an account: that is sign_up()'s to
    handle, the same way for every address. The email is a form field, not
    a model field of the form, so the model's unique constraint on it is not
    checked here either. A taken username is refused openly, as everywhere.
    """

    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We send a link here that opens your account. One account per address.",
    )
    field_order = ["username", "email", "password1", "password2"]

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)

    def clean_email(self) -> str:
        email = get_user_model().objects.normalize_email(self.cleaned_data["email"])
        # Password validation compares the password with the address too.
        self.instance.email = email
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
    the same time, because the request looks nothing up:
{%- if cookiecutter.background == "none" %}
    everything that depends on the address waits until the response is sent.
{%- else %}
    a task on the worker does (tasks.py).
{%- endif %}
    """

    def save(  # type: ignore[override]  # PasswordResetView passes keywords only
        self,
        domain_override: str | None = None,
        use_https: bool = False,
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
{%- if cookiecutter.background == "none" %}
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
                services.request_password_resets,
                self.cleaned_data["email"],
                domain=domain_override or site.netloc,
                use_https=site.scheme == "https",
                request=request,
            )
        )
{%- else %}
        """Queue the lookup of the address typed, whatever it is, on the worker.

        Takes what PasswordResetView passes, but the link's host and scheme
        come from SITE_URL, never from the request (its Host and
        X-Forwarded-Proto headers are the client's to forge). The web
        process runs no query for the address, not even after the response:
        neither the response's time nor the connection's close can tell
        whether it has an account.
        """
        site = urlsplit(settings.SITE_URL)
        enqueue_password_resets(
            self.cleaned_data["email"],
            domain=domain_override or site.netloc,
            use_https=site.scheme == "https",
        )
{%- endif %}
