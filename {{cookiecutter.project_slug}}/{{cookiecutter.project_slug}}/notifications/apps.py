from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        # Importing the module connects its receivers (see users/apps.py).
        from . import signals  # noqa: F401
