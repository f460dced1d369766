from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Importing the module connects its receivers (see users/apps.py).
        from . import signals  # noqa: F401
