"""Settings shared by every environment; each value can come from the environment."""

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config import tracing

BASE_DIR = Path(__file__).resolve().parent.parent.parent
APPS_DIR = BASE_DIR / "{{ cookiecutter.project_slug }}"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

PROJECT_NAME = {{ cookiecutter.project_name | one_line | python_string }}

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])


def site_url(url: str) -> str:
    """The site's address as scheme://host[:port], or a clear error."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or parts.port > 0  # a bad port raises
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        raise ImproperlyConfigured(
            f"DJANGO_SITE_URL must be scheme://host[:port], such as "
            f"https://shop.example.com, not {url!r}"
        )
    return f"{parts.scheme}://{parts.netloc}"


# Links in emails (password reset, email confirmation) start with this, never
# with the request's Host or X-Forwarded-Proto, which a client can forge.
SITE_URL = site_url(env("DJANGO_SITE_URL", default="http://127.0.0.1:8000"))

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = ["axes"{% if cookiecutter.background == "django-tasks" %}, "django_tasks_db"{% endif %}]
# The project's own apps. Order matters for signals: receivers of the same
# signal run in the order their apps are listed.
LOCAL_APPS = [
    "{{ cookiecutter.project_slug }}.signal_tools",
    "{{ cookiecutter.project_slug }}.web",
    "{{ cookiecutter.project_slug }}.pages",
    "{{ cookiecutter.project_slug }}.scaffold",
    "{{ cookiecutter.project_slug }}.users",
    "{{ cookiecutter.project_slug }}.notifications",
    "{{ cookiecutter.project_slug }}.audit",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # First, so every line logged for a request carries its id.
    "{{ cookiecutter.project_slug }}.web.log_context.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Serves the collected static files in production, right after security.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The audit trail's actor and address for changes made by model signals.
    "{{ cookiecutter.project_slug }}.web.current_request.CurrentRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Warns once if a proxy sends X-Forwarded-For and DJANGO_TRUSTED_PROXIES is 0.
    "{{ cookiecutter.project_slug }}.web.middleware.UntrustedProxyWarningMiddleware",
    # Pages for a signed-in user are never stored by a browser or proxy.
    "{{ cookiecutter.project_slug }}.web.middleware.PrivatePagesMiddleware",
    # Last: turns a login refused by django-axes into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "{{ cookiecutter.project_slug }}.web.context_processors.project",
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One SQLite file shared by several processes (web server, worker, cron)
    # without "database is locked": WAL lets reads go on during a write;
    # IMMEDIATE takes the write lock when a transaction begins, where waiting
    # for it is possible, not halfway through it, where SQLite gives up at
    # once; and a writer waits up to `timeout` seconds for the lock.
    # synchronous=NORMAL, safe with WAL: a commit survives a crash of the
    # process; a power cut may lose the last commits, never the file.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        **DATABASES["default"].get("OPTIONS", {}),
    }

AUTH_USER_MODEL = "users.User"
# django-axes refuses logins while a username+address is locked out; the
# ModelBackend checks the password. Every authenticate() needs the request.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# New and changed passwords are hashed with Argon2; PBKDF2 hashes (Django's
# default before) still verify, and are rehashed with Argon2 at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
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
SMTP_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# Without a timeout an SMTP send can block forever; one that outlives
# NOTIFICATIONS_CLAIM_TIMEOUT may be sent twice. Keep it below that.
SMTP_EMAIL_DEFAULTS = {"timeout": 30}


def email_mailer(backend: str) -> dict[str, Any]:
    """The default mailer: the backend, DJANGO_EMAIL_OPTIONS over its defaults.

    Only the SMTP backend takes a timeout: the others refuse unknown options.
    """
    options = env.json("DJANGO_EMAIL_OPTIONS", default={})
    if not isinstance(options, dict):
        raise ImproperlyConfigured(
            f"DJANGO_EMAIL_OPTIONS must be a JSON object, not {options!r}"
        )
    defaults = SMTP_EMAIL_DEFAULTS if backend == SMTP_EMAIL_BACKEND else {}
    options = defaults | options
    return {"BACKEND": backend, "OPTIONS": options}


MAILERS = {
    "default": email_mailer(env("DJANGO_EMAIL_BACKEND", default=SMTP_EMAIL_BACKEND)),
}
DEFAULT_FROM_EMAIL = env(
    "DJANGO_DEFAULT_FROM_EMAIL",
    default={{ cookiecutter.email | python_string }},
)

# The slow-receiver guard (signal_tools/slow_receivers.py) times the project's
# signal receivers during each request and logs a warning for each one slower
# than SIGNALS_SLOW_RECEIVER_MS. Off here; on by default in local settings.
SIGNALS_SLOW_RECEIVER_GUARD = env.bool(
    "DJANGO_SIGNALS_SLOW_RECEIVER_GUARD", default=False
)
SIGNALS_SLOW_RECEIVER_MS = env.int("DJANGO_SIGNALS_SLOW_RECEIVER_MS", default=100)

# signal_tools/ (`manage.py signals`, the checks signals.W001-W004, the guard,
# capture_receivers()) imports none of the project's apps: what it needs to
# know about the project is here.
# The package whose receivers are the project's own: listed in
# docs/signals.md, checked, timed by the guard.
SIGNAL_TOOLS_PROJECT_PACKAGE = APPS_DIR.name
# Modules of that package whose receivers are tooling, not the project's: the
# guard's own receivers listen only when a setting switches it on, so they
# stay out of docs/signals.md and the checks.
SIGNAL_TOOLS_TOOLING_MODULES = [f"{APPS_DIR.name}.signal_tools.slow_receivers"]
# Signals of third-party apps that the project's receivers listen to, by
# dotted path (Django's own and the project's are found without help).
SIGNAL_TOOLS_THIRD_PARTY_SIGNALS = ["axes.signals.user_locked_out"]
# Receivers that run the work waiting for the response, once it is sent
# (web/after_response.py): the guard does not time them, nor what they call.
SIGNAL_TOOLS_AFTER_RESPONSE_RECEIVERS = [
    f"{APPS_DIR.name}.web.after_response.run_after_response"
]
# A span for each call of the project's receivers (signal_tools/tracing.py):
# when tracing is on, i.e. an OTLP endpoint is set (config/tracing.py, which
# sets up the SDK; docs/tracing.md). Off, signal_tools imports no
# OpenTelemetry module and wraps nothing.
SIGNAL_TOOLS_TRACE_RECEIVERS = tracing.enabled()

# Login brute force (django-axes): after AXES_FAILURE_LIMIT failed logins for
# one username from one address, that pair is refused for the cool-off, on the
# login page and the admin alike (users.views.locked_out answers 429).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Also counted, each with its own limit (users/lockout.py): an address across
# usernames, and a username across addresses (the owner is refused too, so
# that limit takes many addresses to reach). Not django-axes' settings.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_USERNAME_FAILURE_LIMIT = env.int("AXES_USERNAME_FAILURE_LIMIT", default=50)
AXES_HANDLER = f"{APPS_DIR.name}.users.lockout.LockoutHandler"
# The address is the client's, not a proxy's (web/client_ip.py): behind
# proxies, set DJANGO_TRUSTED_PROXIES to how many append to X-Forwarded-For.
# 0, the default, uses REMOTE_ADDR and never reads the header.
TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=0)
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        f"DJANGO_TRUSTED_PROXIES must be 0 or more, not {TRUSTED_PROXIES}."
    )
# An address it cannot tell counts as one shared stand-in, never as none, and
# IPv6 addresses by /64 (users/lockout.py).
AXES_CLIENT_IP_CALLABLE = f"{APPS_DIR.name}.users.lockout.lockout_address"
# A login that succeeds forgets that pair's failures: the next typo does not lock.
AXES_RESET_ON_SUCCESS = True
# The audit trail records logins already; no second table of them.
AXES_DISABLE_ACCESS_LOG = True
# Dotted paths into the project's package (APPS_DIR.name is its name).
AXES_LOCKOUT_CALLABLE = f"{APPS_DIR.name}.users.views.locked_out"
# A username without an account is kept as a keyed hash, never as typed: it
# may be a password typed into the wrong field.
AXES_USERNAME_CALLABLE = f"{APPS_DIR.name}.users.usernames.axes_username"
# The form data django-axes stores of a failed login, masked: its defaults
# and the CSRF token, which is the client's secret.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
# Quiet start-up (no version banner on every manage.py command).
AXES_VERBOSE = False

# Avatar uploads per user and per address (as the lockout counts it) within
# the window (users.services.avatar_upload_allowed): decoding an image costs
# far more than sending it.
AVATAR_UPLOADS_PER_USER = env.int("AVATAR_UPLOADS_PER_USER", default=10)
AVATAR_UPLOADS_PER_ADDRESS = env.int("AVATAR_UPLOADS_PER_ADDRESS", default=30)
AVATAR_UPLOAD_WINDOW = timedelta(hours=1)

# Signup forms sent per client address (as the lockout counts it) and per
# email address typed within the window (users.services.signup_allowed): each
# may cost a password hash and an email to someone. Over a limit the page
# answers 429, whether the address has an account or not.
SIGNUP_ATTEMPTS_PER_ADDRESS = env.int("SIGNUP_ATTEMPTS_PER_ADDRESS", default=20)
SIGNUP_ATTEMPTS_PER_EMAIL = env.int("SIGNUP_ATTEMPTS_PER_EMAIL", default=5)
SIGNUP_ATTEMPT_WINDOW = timedelta(hours=1)

# Content Security Policy (Django's middleware): the pages load scripts,
# styles, images and fonts from this site only, and run no inline script.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
}

# Notifications (notifications/outbox.py). A delivery holds its claim on a
# row this many seconds; past that, the row counts as abandoned (its worker
# died) and another delivery may take it. Keep it above the slowest send.
NOTIFICATIONS_CLAIM_TIMEOUT = env.int("NOTIFICATIONS_CLAIM_TIMEOUT", default=300)
# After this many attempts a notification is never claimed again: it stays
# unsent, with its last_error, in the admin.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=10)
# At most one password reset email per account in this many seconds: more
# requests inside it send nothing (and show the same page).
NOTIFICATIONS_RESET_COOLDOWN = env.int("NOTIFICATIONS_RESET_COOLDOWN", default=300)
# At most one "someone tried to sign up with your address" email per account
# in this many seconds: more signups with the address inside it send nothing
# (and show the same page).
NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN = env.int(
    "NOTIFICATIONS_ACCOUNT_EXISTS_COOLDOWN", default=300
)
{%- if cookiecutter.background == "celery" %}

# Celery (config/celery.py): workers run the side effects that receivers queue
# after commit. The task options are in each tasks.py; these apply to all.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="redis://localhost:6379/0")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # Redis gives a task whose worker died to another worker after this many
    # seconds without an ack; keep it above NOTIFICATIONS_CLAIM_TIMEOUT.
    "visibility_timeout": 3600,
    # With the broker unreachable, a signup waits seconds, not forever.
    "socket_connect_timeout": 5,
    "socket_timeout": 5,
    # Overrides as JSON, e.g. {"visibility_timeout": 600}.
    **env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={}),
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "sweep-unsent-notifications": {
        "task": "notifications.sweep_unsent",
        "schedule": env.float("NOTIFICATIONS_SWEEP_INTERVAL", default=60),
    },
}
{%- elif cookiecutter.background == "django-tasks" %}

# Django's tasks framework: receivers queue tasks after commit in this
# database (django-tasks-db), and `manage.py db_worker` runs them. The worker
# runs the sweep (notifications/tasks.py) every this many seconds.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
NOTIFICATIONS_SWEEP_INTERVAL = env.float("NOTIFICATIONS_SWEEP_INTERVAL", default=60)
# A worker killed with SIGKILL leaves its task RUNNING in the task table for
# good; the sweep marks FAILED a task RUNNING for longer than this many
# seconds (notifications/stuck_tasks.py). Keep it well above the longest task:
# a delivery takes at most the SMTP timeout (30 s), and holds its claim for
# NOTIFICATIONS_CLAIM_TIMEOUT (300 s) at most.
NOTIFICATIONS_STUCK_TASK_TIMEOUT = env.int(
    "NOTIFICATIONS_STUCK_TASK_TIMEOUT", default=3600
)
{%- endif %}
# A notification still unsent is tried again once this many seconds have
# passed since it was last tried or queued, times 2 for each attempt it has
# had (notifications/outbox.py, due()), by {% if cookiecutter.background != "none" %}the sweep or by {% endif %}`manage.py send_unsent`.
NOTIFICATIONS_SWEEP_GRACE = env.int("NOTIFICATIONS_SWEEP_GRACE", default=300)
