"""The JSON log format of every process: one object per line on stdout.

Shared by the production settings (LOGGING) and Gunicorn's own logs
(config/gunicorn.py). Gunicorn reads its config before Django is set up, so
this module imports nothing from Django or the project.
"""

import logging
import sys
from typing import Any

from pythonjsonlogger.json import JsonFormatter


class TraceJsonFormatter(JsonFormatter):
    """python-json-logger's formatter, plus trace_id and span_id inside a span.

    With tracing on (config/tracing.py), a line logged inside a span carries
    the ids a tracing backend shows, so logs and traces meet. Off, the
    OpenTelemetry API was never imported and nothing is looked up.
    """

    def add_fields(
        self,
        log_data: dict[str, Any],
        record: logging.LogRecord,
        message_dict: dict[str, Any],
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        api = sys.modules.get("opentelemetry.trace")
        if api is None:
            return
        context = api.get_current_span().get_span_context()
        if context.is_valid:
            log_data["trace_id"] = format(context.trace_id, "032x")
            log_data["span_id"] = format(context.span_id, "016x")


# The formatter above: time, level, logger, message, any extra attribute of
# the record (request_id, task_id), and trace_id and span_id in a span.
FORMATTERS = {
    "json": {
        "()": TraceJsonFormatter,
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {
            "asctime": "time",
            "levelname": "level",
            "name": "logger",
        },
    },
}


def stdout_handler(log_filter: str) -> dict[str, object]:
    """A handler of the LOGGING dict: JSON lines to stdout, through `log_filter`."""
    return {
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stdout",
        "formatter": "json",
        "filters": [log_filter],
    }
