from typing import Any

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest

from .models import Profile
from .signals import password_reset_requested
from .validators import AVATAR_EXTENSIONS, AVATAR_MAX_BYTES


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


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's password reset form, except that it sends a signal instead of an email.

    The notifications app receives password_reset_requested and emails the
    link through its outbox, after commit. As with Django's form, the page
    that follows is the same whether the address has an account or not.
    """

    # Django's save() takes the email templates and the token generator
    # positionally too; PasswordResetView passes everything by keyword, and
    # those arguments belong to the receiver here, hence the narrower signature.
    def save(  # type: ignore[override]
        self,
        domain_override: str | None = None,
        use_https: bool = False,
        request: HttpRequest | None = None,
        **kwargs: Any,
    ) -> None:
        """Send password_reset_requested for each account that may reset its password.

        Takes what PasswordResetView passes; the email templates and the token
        generator are left to the receiver, which makes the token with
        default_token_generator when the email is sent, and never stores it.
        """
        domain = domain_override or get_current_site(request).domain
        for user in self.get_users(self.cleaned_data["email"]):
            password_reset_requested.send(
                sender=type(self),
                user=user,
                domain=domain,
                use_https=use_https,
                request=request,
            )
