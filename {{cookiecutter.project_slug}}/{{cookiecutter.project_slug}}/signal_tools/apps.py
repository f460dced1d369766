from django.apps import AppConfig
from django.conf import settings
from django.core import checks


class SignalToolsConfig(AppConfig):
    name = "{{ cookiecutter.project_slug }}.signal_tools"
    label = "signal_tools"
    verbose_name = "Signal tools"

    def ready(self) -> None:
        # Imported here: the checks read models and signals, not loaded yet
        # when apps.py is.
        from .checks import check_receivers

        checks.register(check_receivers, checks.Tags.signals)
        # Off, the guard is never installed: nothing connected, nothing wrapped.
        if settings.SIGNALS_SLOW_RECEIVER_GUARD:
            from . import slow_receivers

            slow_receivers.install()
        # Tracing on (settings/base.py): a span around each receiver call made
        # inside a trace. The tracer is OpenTelemetry's proxy until the SDK is
        # set up (config/tracing.py, maybe later, e.g. in a worker process
        # after its fork); it records once it is.
        if settings.SIGNAL_TOOLS_TRACE_RECEIVERS:
            from . import tracing

            tracing.install()
