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
        # Connects its request_started/request_finished receivers (often
        # already done: the admin's autodiscover imports users/forms.py,
        # which imports it). The order against the guard does not matter:
        # the guard leaves the work after the response out of its timings.
        from . import after_response  # noqa: F401
{%- if cookiecutter.background == "django-tasks" %}
        from .log_context import connect_task_ids

        connect_task_ids()
{%- endif %}
