from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("user", "kind", "created_at", "sent_at", "attempts")
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__email")
    readonly_fields = (
        "user",
        "kind",
        "created_at",
        "claimed_at",
        "sent_at",
        "attempts",
        "last_error",
        "context",
    )
