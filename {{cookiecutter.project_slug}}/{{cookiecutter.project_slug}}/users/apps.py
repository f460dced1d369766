from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        # Importing the module connects its receivers. Doing it here, not in
        # models.py, means every model is loaded first: no circular imports.
        from . import signals  # noqa: F401
