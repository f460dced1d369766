from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from .models import Profile, User


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    readonly_fields = ("created_at", "updated_at")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    def get_inlines(
        self, request: HttpRequest, obj: User | None
    ) -> tuple[type[ProfileInline], ...]:
        # No inline on the add page: the post_save signal creates the profile,
        # and a second one from the inline would break the one-to-one.
        return (ProfileInline,) if obj else ()
