"""The Celery app: `celery -A config worker` and `celery -A config beat` load it.

Its settings are Django's, prefixed CELERY_ (config/settings/base.py), and it
finds the tasks in the tasks.py of every installed app.
"""

import logging.config
import os

from celery import Celery
from celery.signals import (
    celeryd_init,
    setup_logging,
    worker_process_init,
    worker_process_shutdown,
)

from config import tracing

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("{{ cookiecutter.project_slug }}")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def use_django_logging(**kwargs: object) -> None:
    """Log as the settings say (JSON lines in production), not in Celery's format.

    With a receiver connected, Celery installs no handler of its own.
    """
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    # Python warnings too (Django does the same when it configures logging).
    logging.captureWarnings(True)


@celeryd_init.connect
def trace_in_pool_processes(**kwargs: object) -> None:
    """The worker's main process forks the pool: tracing starts in each pool process."""
    tracing.defer_to_forks()


@worker_process_init.connect
def start_tracing(**kwargs: object) -> None:
    """Trace in each pool process, after its fork (off unless an OTLP endpoint is set)."""
    tracing.configure_after_fork()


@worker_process_shutdown.connect
def stop_tracing(**kwargs: object) -> None:
    """Export the pool process's last spans: it exits without running atexit."""
    tracing.shutdown()
