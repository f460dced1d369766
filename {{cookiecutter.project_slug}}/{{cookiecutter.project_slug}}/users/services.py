"""Business actions of the users app: views, admin and commands call these."""

import unicodedata
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

# The module, not its names: signals.py calls this one's functions too.
from . import selectors, signals
from .models import AvatarUpload, Profile, SignupAttempt, User


@transaction.atomic
def sign_up(
    *, username: str, email: str, password: str, request: HttpRequest | None = None
) -> User | None:
    """Open an account that waits for its address to be confirmed; None if the address has one.

    The new user is inactive (it cannot log in) until the owner of the
    address opens the confirmation link of the welcome email that other apps
    send on post_save (confirm_email activates it). Given the request of a
    signup form, also sends user_signed_up (the audit trail records the
    signup's IP address and browser); the admin and create_user() never do.

    An address that already has an account, in any case, gets no new one:
    its owner is told instead (signup_with_taken_email; the notifications
    app emails them), and the caller answers as for a new account, so the
    signup page does not tell anyone which addresses have accounts. That
    path hashes the password too and queues one email, like the new one:
    it is not much faster (the template measures both: benchmarks/signup_timing.py).
    Raises IntegrityError only if another signup took the username meanwhile.
    """
    users = get_user_model()._default_manager
    owner = selectors.account_with_email(email)
    if owner is None:
        try:
            with transaction.atomic():
                user = users.create_user(
                    username=username, email=email, password=password, is_active=False
                )
        except IntegrityError:
            # Another signup committed first: with this address, or the username.
            owner = selectors.account_with_email(email)
            if owner is None:
                raise
        else:
            if request is not None:
                signals.user_signed_up.send(
                    sender=type(user), user=user, request=request
                )
            return user
    # The new path's cost: one password hash (Argon2), thrown away.
    make_password(password)
    signals.signup_with_taken_email.send(
        sender=type(owner), user=owner, request=request
    )
    return None


def create_profile(user: User) -> Profile:
    """Give a new user its profile: one INSERT, called on post_save (signals.create_profile).

    Every user has one from the start, whichever path created it (signup,
    the admin, create_user(), a command), so the pages never meet a user
    without one, except one written by a bulk insert.
    """
    return Profile.objects.create(user=user)


def email_key(email: str) -> str:
    """What a SignupAttempt keeps of an address: a keyed hash, the same in any case.

    The same text always gives the same key, so attempts with one address
    count together, but the key cannot be turned back into the address
    without SECRET_KEY. "" for no address.
    """
    typed = unicodedata.normalize("NFKC", email.strip()).casefold()
    if not typed:
        return ""
    return salted_hmac("users.SignupAttempt", typed, algorithm="sha256").hexdigest()


@transaction.atomic
def signup_allowed(address: str, email: str) -> bool:
    """Count a signup form sent from address with email; False, uncounted, past a limit.

    At most SIGNUP_ATTEMPTS_PER_ADDRESS per client address and
    SIGNUP_ATTEMPTS_PER_EMAIL per email address (as typed, ignoring case)
    within SIGNUP_ATTEMPT_WINDOW, whatever the form holds and whether the
    address has an account or not: each signup may cost a password hash and
    an email to someone. Two workers counting at once may each let one more
    through: a bound, not an exact count.
    """
    since = timezone.now() - settings.SIGNUP_ATTEMPT_WINDOW
    SignupAttempt.objects.filter(attempted_at__lt=since).delete()
    key = email_key(email)
    by_address = SignupAttempt.objects.filter(address=address).count()
    by_email = SignupAttempt.objects.filter(email_key=key).count() if key else 0
    if (
        by_address >= settings.SIGNUP_ATTEMPTS_PER_ADDRESS
        or by_email >= settings.SIGNUP_ATTEMPTS_PER_EMAIL
    ):
        return False
    SignupAttempt.objects.create(address=address, email_key=key)
    return True


def request_password_resets(
    email: str, *, domain: str, use_https: bool, request: HttpRequest | None = None
) -> None:
    """Send password_reset_requested for each account of the address that may reset its password.

    Active accounts with a usable password whose address matches the one
    typed, ignoring case, as Django's PasswordResetForm.get_users() finds
    them. Called once the reset page's response is sent (background=none),
    or by a task on the worker, never inside the page's request: how long
    the lookup takes must not show whether the address has an account. The
    email and its token are the receiver's: it makes the token with
    default_token_generator when the email is sent, and never stores it.
    """
    typed = unicodedata.normalize("NFKC", email).casefold()
    candidates = get_user_model().objects.filter(email__iexact=email, is_active=True)
    for user in candidates:
        # iexact in the database may match more than Unicode case folding does.
        same = unicodedata.normalize("NFKC", user.email).casefold() == typed
        if same and user.has_usable_password():
            signals.password_reset_requested.send(
                sender=type(user),
                user=user,
                domain=domain,
                use_https=use_https,
                request=request,
            )


@transaction.atomic
def confirm_email(user: User, *, request: HttpRequest | None = None) -> bool:
    """Mark the user's email address as confirmed and send email_confirmed; False if it was already.

    The caller has checked the link's token. An account waiting for this
    since its signup (inactive, never logged in) is activated: its link was
    made while it was inactive, and the token covers that (tokens.py), so
    the older link of an account an admin deactivated does not get here.
    An inactive account that has logged in before was deactivated by an
    admin: even a link made since confirms its address only, and never
    opens it again. One conditional UPDATE, so two clicks racing confirm
    once, and an address changed since the check stays unconfirmed. The
    audit trail records the confirmation on the signal.
    """
    now = timezone.now()
    opens = selectors.awaits_its_signup_confirmation(user)
    unconfirmed = type(user)._default_manager.filter(
        pk=user.pk, email=user.email, email_confirmed_at=None, is_active=user.is_active
    )
    if opens:
        unconfirmed = unconfirmed.filter(last_login=None)
    active = user.is_active or opens
    if not unconfirmed.update(email_confirmed_at=now, is_active=active):
        return False
    user.email_confirmed_at = now
    user.is_active = active
    signals.email_confirmed.send(sender=type(user), user=user, request=request)
    return True


def unconfirm_new_email(
    user: User, *, update_fields: Iterable[str] | None, using: str
) -> None:
    """Mark the address of a user about to be saved as unconfirmed if the save changes it.

    Whoever changes it (a form, the admin, the shell): the confirmation was
    of the old address. Called before the save (pre_save), which then writes
    the empty email_confirmed_at with the rest, at no extra query. A save
    limited to fields without it (update_fields=["email"]) cannot be widened
    from a receiver, so one UPDATE empties it, in the save's transaction.
    """
    if "email" not in user.saved_changes(update_fields):
        return
    user.email_confirmed_at = None
    if update_fields is not None and "email_confirmed_at" not in update_fields:
        users = type(user)._default_manager.using(using)
        users.filter(pk=user.pk).update(email_confirmed_at=None)


@transaction.atomic
def avatar_upload_allowed(user: User, address: str) -> bool:
    """Count an avatar upload by user from address; False, uncounted, past a limit.

    At most AVATAR_UPLOADS_PER_USER uploads per user and
    AVATAR_UPLOADS_PER_ADDRESS per address within AVATAR_UPLOAD_WINDOW:
    decoding an image costs far more CPU and memory than sending it, so a few
    uploads a second would keep the workers busy. Two workers counting at
    once may each let one more through: a bound, not an exact count.
    """
    since = timezone.now() - settings.AVATAR_UPLOAD_WINDOW
    AvatarUpload.objects.filter(uploaded_at__lt=since).delete()
    if (
        AvatarUpload.objects.filter(user=user).count()
        >= settings.AVATAR_UPLOADS_PER_USER
        or AvatarUpload.objects.filter(address=address).count()
        >= settings.AVATAR_UPLOADS_PER_ADDRESS
    ):
        return False
    AvatarUpload.objects.create(user=user, address=address)
    return True
