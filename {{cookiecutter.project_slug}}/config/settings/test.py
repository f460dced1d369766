"""Settings for the test suite: fast, self-contained, no network."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-test-only")
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# WhiteNoise looks files up at each request instead of reading STATIC_ROOT,
# which the tests never fill.
WHITENOISE_AUTOREFRESH = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The guard's own tests switch it on; everywhere else receivers run unwrapped.
SIGNALS_SLOW_RECEIVER_GUARD = False
