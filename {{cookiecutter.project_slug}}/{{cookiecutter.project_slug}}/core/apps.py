from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class CoreConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Imported here: the checks read models and signals, not loaded yet
        # when apps.py is.
        from .checks import check_receivers

        checks.register(check_receivers, checks.Tags.signals)
        # Off, the guard is never installed: nothing connected, nothing wrapped.
        if settings.SIGNALS_SLOW_RECEIVER_GUARD:
            from . import slow_receivers

            slow_receivers.install()
        # Connected after the guard, so that the guard has reported on the
        # request before the work that waited for its response runs.
        from . import after_response  # noqa: F401
{%- if cookiecutter.background == "django-tasks" %}
        from .log_context import connect_task_ids

        connect_task_ids()
{%- endif %}
