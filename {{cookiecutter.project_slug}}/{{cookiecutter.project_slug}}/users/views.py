from copy import copy
from math import ceil
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlsafe_base64_decode
from django.views.decorators.http import require_http_methods

from . import services
from .forms import ProfileForm, SignUpForm
from .lockout import lockout_address
from .models import Profile, User
from .services import sign_up
from .tokens import email_confirmation_token


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind login_required: its user is a User."""

    user: User


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Open an account through the sign_up service, then say "check your inbox".

    The answer is the same whether the address is new or has an account
    already (sign_up emails its owner instead): the same redirect, no login,
    no cookie. Only the link in the email opens the account. Signups are
    limited per client address and per email address, the same for both.
    """
    if request.user.is_authenticated:
        return redirect("profile")
    if request.method == "POST":
        address, email = lockout_address(request), request.POST.get("email", "")
        if not services.signup_allowed(address, email):
            messages.error(
                request,
                "Too many signups from here or for this email address: try again in an hour.",
            )
            context = {"form": SignUpForm()}
            return render(request, "registration/signup.html", context, status=429)
        form = SignUpForm(request.POST)
        if form.is_valid():
            try:
                sign_up(
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                    request=request,
                )
            except IntegrityError:
                # Another signup took the username after the form checked.
                form.add_error("username", "This username was just taken.")
            else:
                return redirect("signup_done")
    else:
        form = SignUpForm()
    return render(request, "registration/signup.html", {"form": form})


@require_http_methods(["GET", "HEAD"])
def signup_done(request: HttpRequest) -> HttpResponse:
    """Check your inbox: where every signup ends, whatever its address."""
    return render(request, "registration/signup_done.html")


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show and edit the signed-in user's own profile: there is no id to change."""
    # Users made without signals (bulk_create, old rows) get their profile here.
    profile, _ = Profile.objects.get_or_create(user=request.user)
    if (
        request.method == "POST"
        and request.FILES.get("avatar")
        and not services.avatar_upload_allowed(request.user, lockout_address(request))
    ):
        # Refused before the image is decoded, which is what costs.
        messages.error(request, "Too many avatar uploads: try again in an hour.")
        context = {"profile": profile, "form": ProfileForm(instance=profile)}
        return render(request, "users/profile.html", context, status=429)
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=profile)
        if form.is_valid():
            form.save()
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    else:
        form = ProfileForm(instance=profile)
    return render(request, "users/profile.html", {"profile": profile, "form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def confirm_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Confirm the address that a welcome email's link was sent to; no login needed.

    Whoever opens the link can read that mailbox. Opening it (GET) changes
    nothing: mail scanners open links, and would confirm an address a stranger
    signed up with and use up the owner's link. The page it shows has a button
    that POSTs (with the CSRF token) and confirms. Once confirmed, the token
    no longer matches the user, so the link works once; the redirect takes
    the token out of the address bar.
    """
    user = user_from_uid(uidb64)
    if user is None or not email_confirmation_token.check_token(user, token):
        if user is not None and was_the_link_before_confirming(user, token):
            # The owner's second click: no error for them.
            return render(request, "users/confirm_email_done.html")
        # Any other token gets the same answer whatever the account's state:
        # with sequential ids, telling "confirmed" apart would show anyone
        # which accounts exist and are confirmed.
        return render(request, "users/confirm_email_failed.html", status=400)
    if request.method != "POST":
        return render(request, "users/confirm_email.html")
    waiting = not user.is_active
    if not services.confirm_email(user, request=request):
        return render(request, "users/confirm_email_done.html")
    if waiting and user.is_active:
        # The account was waiting for this link since its signup: open it and
        # log its owner in, as django-allauth does on confirmation.
        # Two backends (axes' and Django's): say which one vouches.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            f"Welcome, {user.get_username()}! {user.email} is confirmed and your "
            "account is open; a signal created this profile for it.",
        )
        return redirect("profile")
    messages.success(request, f"Thank you: {user.email} is confirmed.")
    return redirect("home")


def was_the_link_before_confirming(user: User, token: str) -> bool:
    """Whether a confirmed user's token is their link, valid until they confirmed.

    Confirming changes the hash the token covers (tokens.py); checked against
    the user as they were before (unconfirmed, and inactive if the link was
    a signup's), only the link sent to them matches.
    """
    if user.email_confirmed_at is None:
        return False
    before = copy(user)
    before.email_confirmed_at = None
    if email_confirmation_token.check_token(before, token):
        return True
    before.is_active = False
    return email_confirmation_token.check_token(before, token)


def user_from_uid(uidb64: str) -> User | None:
    """The user whose base64 primary key a link carries, or None."""
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        return User._default_manager.get(pk=pk)
    except (TypeError, ValueError, OverflowError, User.DoesNotExist, ValidationError):
        return None


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only), plus a message that says it worked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None,
    credentials: dict[str, Any] | None,
) -> HttpResponse:
    """The page django-axes shows instead of a login it refused (AXES_LOCKOUT_CALLABLE)."""
    minutes = ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}
    # 429 Too Many Requests, as django-axes answers by default.
    return render(request, "registration/locked_out.html", context, status=429)
