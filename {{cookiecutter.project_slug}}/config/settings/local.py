"""Settings for a developer's machine: debug on, emails printed to the console."""

from .base import *  # noqa: F403
from .base import MAILERS, email_mailer, env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-local-only")
MAILERS["default"] = email_mailer(
    env(
        "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
)
SIGNALS_SLOW_RECEIVER_GUARD = env.bool(
    "DJANGO_SIGNALS_SLOW_RECEIVER_GUARD", default=True
)
