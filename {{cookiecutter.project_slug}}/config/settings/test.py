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
{%- if cookiecutter.background == "celery" %}

# Tasks run in the test process when queued: no broker, no worker. Errors are
# not propagated to the caller, so a task's retries run as they would on a
# worker (with True, the first retry would raise Retry in the caller instead).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
{%- elif cookiecutter.background == "django-tasks" %}

# Tasks run in the test process when queued (Django's ImmediateBackend), as a
# worker would run them, but at once: no worker, no task table to poll.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
{%- endif %}
