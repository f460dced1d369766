"""The Celery app: `celery -A config worker` and `celery -A config beat` load it.

Its settings are Django's, prefixed CELERY_ (config/settings/base.py), and it
finds the tasks in the tasks.py of every installed app.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("{{ cookiecutter.project_slug }}")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
