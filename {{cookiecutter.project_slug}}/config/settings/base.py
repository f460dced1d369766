"""Settings shared by every environment; each value can come from the environment."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
APPS_DIR = BASE_DIR / "{{ cookiecutter.project_slug }}"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

PROJECT_NAME = {{ cookiecutter.project_name | python_string }}

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = []
# The project's own apps. Order matters for signals: receivers of the same
# signal run in the order their apps are listed.
LOCAL_APPS = [
    "{{ cookiecutter.project_slug }}.core",
    "{{ cookiecutter.project_slug }}.users",
    "{{ cookiecutter.project_slug }}.notifications",
    "{{ cookiecutter.project_slug }}.audit",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected static files in production, right after security.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [APPS_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "{{ cookiecutter.project_slug }}.core.context_processors.project",
            ],
        },
    },
]

DATABASES = {
{%- if cookiecutter.database == "postgresql" %}
    "default": env.db(
        "DATABASE_URL",
        default="postgres://postgres@localhost:5432/{{ cookiecutter.project_slug }}",
    ),
{%- else %}
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
{%- endif %}
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = {{ cookiecutter.timezone | python_string }}
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [APPS_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = BASE_DIR / "media"

# Django 6.1 configures email through MAILERS (the EMAIL_* settings are
# deprecated). Backend options, e.g. {"host": "smtp.example.com", "port": 587,
# "use_tls": true}, come as JSON in DJANGO_EMAIL_OPTIONS.
MAILERS = {
    "default": {
        "BACKEND": env(
            "DJANGO_EMAIL_BACKEND",
            default="django.core.mail.backends.smtp.EmailBackend",
        ),
        "OPTIONS": env.json("DJANGO_EMAIL_OPTIONS", default={}),
    },
}
DEFAULT_FROM_EMAIL = env(
    "DJANGO_DEFAULT_FROM_EMAIL",
    default={{ cookiecutter.email | python_string }},
)

# The slow-receiver guard (core/slow_receivers.py) times the project's signal
# receivers during each request and logs a warning for each one slower than
# SIGNALS_SLOW_RECEIVER_MS. Off here; on by default in local settings.
SIGNALS_SLOW_RECEIVER_GUARD = env.bool(
    "DJANGO_SIGNALS_SLOW_RECEIVER_GUARD", default=False
)
SIGNALS_SLOW_RECEIVER_MS = env.int("DJANGO_SIGNALS_SLOW_RECEIVER_MS", default=100)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}
