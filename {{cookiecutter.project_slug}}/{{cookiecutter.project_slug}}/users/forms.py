from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from .models import Profile
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

    def clean_email(self):
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
