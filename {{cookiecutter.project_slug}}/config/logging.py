"""The JSON log format of every process: one object per line on stdout.

Shared by the production settings (LOGGING) and Gunicorn's own logs
(config/gunicorn.py). Gunicorn reads its config before Django is set up, so
this module imports nothing from Django or the project.
"""

# python-json-logger's formatter: time, level, logger, message, and any
# extra attribute of the record (request_id, task_id).
FORMATTERS = {
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
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
