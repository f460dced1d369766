from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ..notifications.selectors import welcome_of
from ..users.selectors import profile_of


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Tell the signed-in user what the signals did for them; invite others in."""
    context: dict[str, Any] = {}
    if request.user.is_authenticated:
        user = request.user
        context["profile"] = profile_of(user)
        context["welcome"] = welcome_of(user)
        context["audit_entries"] = count_audit_entries(user)
    return render(request, "pages/home.html", context)


def count_audit_entries(user: AbstractBaseUser) -> int | None:
    """How many audit entries concern the user, or None without the audit app."""
    try:
        audit_event = apps.get_model("audit", "AuditEvent")
    except LookupError:
        return None
    return audit_event.objects.filter(
        target_type=user._meta.label, target_id=str(user.pk)
    ).count()


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 "ok" when the database answers; a failure gives a 500."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
