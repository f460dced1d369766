from django.apps import AppConfig
from django.core import checks


class WebConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.web"
    label = "web"
    verbose_name = "Web"

    def ready(self) -> None:
        # Connects its request_started/request_finished receivers (often
        # already done: the admin's autodiscover imports users/forms.py,
        # which imports it).
        from . import after_response  # noqa: F401
        from .checks import check_trusted_proxies

        checks.register(check_trusted_proxies, checks.Tags.security, deploy=True)
        # Tracing (config/tracing.py): off, and nothing imported, unless an
        # OTLP endpoint is set. Here, in every process, before Django loads
        # the middleware that the Django instrumentation adds to. It sets up
        # the SDK and the instrumentations only: signal_tools installs the
        # receivers' spans itself (SIGNAL_TOOLS_TRACE_RECEIVERS).
        from config import tracing

        tracing.configure()
{%- if cookiecutter.background == "django-tasks" %}
        from .log_context import connect_task_ids

        connect_task_ids()
{%- endif %}
