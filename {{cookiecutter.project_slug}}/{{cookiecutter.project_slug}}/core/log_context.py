"""Request and task ids on log lines: a middleware that names each request, a filter.

Production settings log one JSON object per line (python-json-logger); the
filter adds `request_id` to every line logged while a request is handled,
so the lines of one signup can be found together. The id comes from the
proxy's X-Request-ID header when it sends a sane one (Heroku's router and
many load balancers do), else it is made here; the response sends it back.
{%- if cookiecutter.background == "celery" %}
Lines logged by a Celery task get its `task_id` instead.
{%- endif %}

Written by hand: a dozen lines, where a library (django-log-request-id,
django-guid) would bring its own settings to learn. The LOGGING setting
loads the filter before Django's apps are ready, so this module imports
nothing from Django at run time.
"""

import logging
import re
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING
{%- if cookiecutter.background == "celery" %}

from celery import current_task
{%- endif %}

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse

# Set when a request starts and left set until the next one starts, so the
# lines logged after the response (the slow-receiver guard's warnings at
# request_finished, Gunicorn's access line) still carry it.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# A proxy's id is written into every log line: accept a plain token only.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    """Give each request an id: the proxy's X-Request-ID, or a new one."""

    def __init__(self, get_response: "Callable[[HttpRequest], HttpResponse]") -> None:
        self.get_response = get_response

    def __call__(self, request: "HttpRequest") -> "HttpResponse":
        given = request.headers.get("X-Request-ID", "")
        current = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex
        request_id.set(current)
        response = self.get_response(request)
        response["X-Request-ID"] = current
        return response


class ContextFilter(logging.Filter):
    """Add request_id{% if cookiecutter.background == "celery" %} and task_id{% endif %} to a record where there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None:
            record.request_id = current
{%- if cookiecutter.background == "celery" %}
        # A proxy, false outside a task.
        if current_task and current_task.request.id:
            record.task_id = current_task.request.id
{%- endif %}
        return True
