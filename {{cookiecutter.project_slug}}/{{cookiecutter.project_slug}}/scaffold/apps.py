from django.apps import AppConfig


class ScaffoldConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.scaffold"
    label = "scaffold"
    verbose_name = "Scaffold"
