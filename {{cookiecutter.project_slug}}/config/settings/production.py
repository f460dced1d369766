"""Settings for production: every secret from the environment, HTTPS only."""

from ..logging import FORMATTERS, stdout_handler
from .base import *  # noqa: F403
from .base import DATABASES, env, site_url

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
# Required: the scheme and host of the links in emails, e.g. https://shop.example.com.
SITE_URL = site_url(env("DJANGO_SITE_URL"))
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)

# `manage.py collectstatic` writes compressed files with hashed names, which
# WhiteNoise serves with far-future cache headers.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    },
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Load balancers probe over plain HTTP: answer them instead of redirecting.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Every process of the Procfile logs to stdout, one JSON object per line, for
# the platform to collect: time, level, logger, message, and request_id where
# there is one (web/log_context.py).
{%- if cookiecutter.background == "celery" %}
# Lines logged by a Celery task carry its task_id.
{%- endif %}
# python-json-logger writes the JSON (config/logging.py); Gunicorn's own
# lines use the same format (config/gunicorn.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {
            "()": "{{ cookiecutter.project_slug }}.web.log_context.ContextFilter",
        },
    },
    "formatters": FORMATTERS,
    "handlers": {"stdout": stdout_handler("context")},
    "root": {"handlers": ["stdout"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
{%- if cookiecutter.background == "celery" %}
    "loggers": {
        # Celery's process pool (billiard) logs here without propagating, for
        # example a pool process that died; without a handler Python would
        # print it as plain text on stderr. config/celery.py keeps Celery's
        # own format out.
        "multiprocessing": {"handlers": ["stdout"], "level": "WARNING"},
    },
{%- endif %}
}
