from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from .forms import ProfileForm
from .models import Profile, User


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileForm  # its avatar is re-encoded too
    can_delete = False
    readonly_fields = ("created_at", "updated_at")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    # Set only by the link of the welcome email; saving a new address here
    # empties it (users.services.unconfirm_new_email).
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),  # never None on Django's UserAdmin
        ("Email address", {"fields": ("email_confirmed_at",)}),
    )
    readonly_fields = ("email_confirmed_at",)

    def get_inlines(
        self, request: HttpRequest, obj: User | None
    ) -> tuple[type[ProfileInline], ...]:
        # No inline on the add page: the post_save signal creates the profile,
        # and a second one from the inline would break the one-to-one.
        return (ProfileInline,) if obj else ()
