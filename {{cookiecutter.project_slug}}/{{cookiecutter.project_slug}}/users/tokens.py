"""The token of the email confirmation link: made when the email is sent, stored nowhere."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator

from .models import User


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password reset tokens, with their own salt and keyed on the address.

    The salt keeps a reset token from working as a confirmation token and the
    other way round. The hash covers the address and whether it is confirmed:
    changing the address, or confirming it, makes every earlier link invalid.
    Tokens expire after PASSWORD_RESET_TIMEOUT (3 days by default), like
    reset links.
    """

    key_salt = "users.tokens.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        return f"{user.pk}{user.email}{user.email_confirmed_at}{timestamp}"


email_confirmation_token = EmailConfirmationTokenGenerator()
