"""The token of the email confirmation link: made when the email is sent, stored nowhere."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator

from .models import User


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password reset tokens, with their own salt and keyed on the address.

    The salt keeps a reset token from working as a confirmation token and the
    other way round. The hash covers the address, whether it is confirmed,
    and whether the account is inactive: changing the address, confirming
    it, or deactivating the account makes every earlier link invalid. The
    link of an account that signed up (inactive until confirmed) was made
    while inactive, and confirming activates it if it never logged in
    (services.confirm_email); the older link of an account an admin
    deactivated was not, and activates nothing. An active
    account's hash is the one of earlier releases, so links already sent
    keep working. Tokens expire after PASSWORD_RESET_TIMEOUT (3 days by
    default), like reset links.
    """

    key_salt = "users.tokens.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user: User, timestamp: int) -> str:
        inactive = "" if user.is_active else "inactive"
        return f"{user.pk}{user.email}{user.email_confirmed_at}{timestamp}{inactive}"


email_confirmation_token = EmailConfirmationTokenGenerator()
