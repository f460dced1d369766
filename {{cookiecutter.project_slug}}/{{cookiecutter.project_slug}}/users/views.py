from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import ProfileForm, SignUpForm
from .models import Profile, User
from .services import sign_up


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a view behind login_required: its user is a User."""

    user: User


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account through the sign_up service, log the user in, show the profile."""
    if request.user.is_authenticated:
        return redirect("profile")
    if request.method == "POST":
        form = SignUpForm(request.POST)
        if form.is_valid():
            try:
                user = sign_up(
                    username=form.cleaned_data["username"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                    request=request,
                )
            except IntegrityError:
                # Another signup took the name or address after the form checked.
                form.add_error(None, "This username or email address was just taken.")
            else:
                login(request, user)
                messages.success(
                    request,
                    f"Welcome, {user.get_username()}! Your account is ready, "
                    "and a signal created this profile for it.",
                )
                return redirect("profile")
    else:
        form = SignUpForm()
    return render(request, "registration/signup.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Show and edit the signed-in user's own profile: there is no id to change."""
    # Users made without signals (bulk_create, old rows) get their profile here.
    profile, _ = Profile.objects.get_or_create(user=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=profile)
        if form.is_valid():
            form.save()
            messages.success(request, "Your profile is saved.")
            return redirect("profile")
    else:
        form = ProfileForm(instance=profile)
    return render(request, "users/profile.html", {"profile": profile, "form": form})


class LogoutView(auth_views.LogoutView):
    """Django's logout (POST only), plus a message that says it worked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response
