from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Off, the guard is never installed: nothing connected, nothing wrapped.
        if settings.SIGNALS_SLOW_RECEIVER_GUARD:
            from . import slow_receivers

            slow_receivers.install()
