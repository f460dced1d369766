"""Request and task ids on log lines: a middleware that names each request, a filter.

Production settings log one JSON object per line (python-json-logger); the
filter adds `request_id` to every line logged while a request is handled,
so the lines of one signup can be found together. The id comes from the
proxy's X-Request-ID header when it sends a sane one (Heroku's router and
many load balancers do), else it is made here; the response sends it back.
{%- if cookiecutter.background == "celery" %}
Lines logged by a Celery task get its `task_id` instead.
{%- elif cookiecutter.background == "django-tasks" %}
Lines logged while a task runs get its `task_id`: Django has no "current
task" to ask, so two receivers of its task_started and task_finished signals
keep it, connected by WebConfig.ready().
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
from typing import TYPE_CHECKING{% if cookiecutter.background == "django-tasks" %}, Any{% endif %}
{%- if cookiecutter.background == "celery" %}

from celery import current_task
{%- endif %}

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.http import HttpRequest, HttpResponse
{%- if cookiecutter.background == "django-tasks" %}
    from django.tasks import TaskResult
{%- endif %}

# Set when a request starts and left set until the next one starts, so the
# lines logged after the response (the slow-receiver guard's warnings at
# request_finished, Gunicorn's access line) still carry it.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# A proxy's id is written into every log line: accept a plain token only.
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
{%- if cookiecutter.background == "django-tasks" %}

# The ids of the tasks running in this thread, innermost last: a task run
# inside another (ImmediateBackend runs it as it is queued) hands back to it.
task_ids: ContextVar[tuple[str, ...]] = ContextVar("task_ids", default=())
{%- endif %}


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
    """Add request_id{% if cookiecutter.background != "none" %} and task_id{% endif %} to a record where there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None:
            record.request_id = current
{%- if cookiecutter.background == "celery" %}
        # A proxy, false outside a task.
        if current_task and current_task.request.id:
            record.task_id = current_task.request.id
{%- elif cookiecutter.background == "django-tasks" %}
        running = task_ids.get()
        if running:
            record.task_id = running[-1]
{%- endif %}
        return True
{%- if cookiecutter.background == "django-tasks" %}


def remember_task(
    sender: type, task_result: "TaskResult[Any, Any]", **kwargs: Any
) -> None:
    """Tag the lines logged while a task runs with its id."""
    task_ids.set((*task_ids.get(), task_result.id))


def forget_task(
    sender: type, task_result: "TaskResult[Any, Any]", **kwargs: Any
) -> None:
    """Stop tagging log lines with the id of the task that finished."""
    task_ids.set(task_ids.get()[:-1])


def connect_task_ids() -> None:
    """Connect remember_task and forget_task; WebConfig.ready() calls it.

    Connected there, not with @receiver here: the LOGGING setting imports
    this module before Django is set up. Django's own receiver that logs a
    finished task was connected first, so its line still has the id.
    """
    from django.tasks.signals import task_finished, task_started

    task_started.connect(remember_task, dispatch_uid="web.remember_task")
    task_finished.connect(forget_task, dispatch_uid="web.forget_task")
{%- endif %}
