from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.pages"
    label = "pages"
    verbose_name = "Pages"
