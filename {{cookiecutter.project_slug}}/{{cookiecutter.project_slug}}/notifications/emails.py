"""What each email of the outbox says, and sending it."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from ..users.models import User
from ..users.tokens import email_confirmation_token
from . import tracing
from .models import Notification


def uid_of(user: User) -> str:
    """The user's primary key as a link carries it (base64, like Django's reset links)."""
    return urlsafe_base64_encode(force_bytes(user._meta.pk.value_to_string(user)))


def welcome_context(notification: Notification) -> dict[str, str]:
    """The link that confirms the address, with a token made now and stored nowhere.

    Like every link in an email it starts with SITE_URL, never with what a
    request said its host was.
    """
    user = notification.user
    token = email_confirmation_token.make_token(user)
    path = reverse("confirm_email", kwargs={"uidb64": uid_of(user), "token": token})
    return {
        "confirm_url": settings.SITE_URL + path,
        "reset_url": settings.SITE_URL + reverse("password_reset"),
    }


def password_reset_context(notification: Notification) -> dict[str, str]:
    """The parts of the reset link, with a token made now and stored nowhere.

    A token works like the password until it expires, so it is made from the
    user at send time, never written to the row: the row keeps only the
    link's domain and protocol. PasswordResetConfirmView checks it.
    """
    user = notification.user
    return {
        "domain": notification.context["domain"],
        "protocol": notification.context["protocol"],
        "uid": uid_of(user),
        "token": default_token_generator.make_token(user),
    }


def account_exists_context(notification: Notification) -> dict[str, str]:
    """Where the owner of an address someone tried to sign up with can log in or reset."""
    return {
        "login_url": settings.SITE_URL + reverse("login"),
        "reset_url": settings.SITE_URL + reverse("password_reset"),
    }


# What each kind of email needs besides the user and the project name.
CONTEXT_BUILDERS: dict[str, Callable[[Notification], dict[str, Any]]] = {
    Notification.Kind.WELCOME: welcome_context,
    Notification.Kind.PASSWORD_RESET: password_reset_context,
    Notification.Kind.ACCOUNT_EXISTS: account_exists_context,
}


def send(notification: Notification) -> None:
    """Send the email of one notification."""
    context = {
        "user": notification.user,
        "project_name": settings.PROJECT_NAME,
        **CONTEXT_BUILDERS[notification.kind](notification),
    }
    template = f"notifications/{notification.kind}_email"
    subject = render_to_string(f"{template}_subject.txt", context).strip()
    message = render_to_string(f"{template}.txt", context)
    with tracing.send_span():
        send_mail(
            subject=subject,
            message=message,
            from_email=None,
            recipient_list=[notification.user.email],
        )
