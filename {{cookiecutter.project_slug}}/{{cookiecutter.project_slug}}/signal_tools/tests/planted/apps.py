from django.apps import AppConfig


class PlantedConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.signal_tools.tests.planted"
    label = "planted"
    # No ready(): models.py connects the receivers, the mistake W004 reports.
