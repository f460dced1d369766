{% if cookiecutter.background == "celery" -%}
# Load the Celery app with Django, so the tasks that receivers queue use it.
from .celery import app as celery_app

__all__ = ["celery_app"]
{% endif -%}
