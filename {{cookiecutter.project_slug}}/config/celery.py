"""The Celery app: `celery -A config worker` and `celery -A config beat` load it.

Its settings are Django's, prefixed CELERY_ (config/settings/base.py), and it
finds the tasks in the tasks.py of every installed app.
"""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

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
