"""A span for each call of the project's signal receivers (docs/tracing.md).

SignalToolsConfig.ready() calls install() when
settings.SIGNAL_TOOLS_TRACE_RECEIVERS is true (tracing on: config/tracing.py
sets up the SDK); off, this module is never imported. The tracer below is
OpenTelemetry's proxy until the SDK's provider is set, then the provider's. Through dispatch.py, each call of a project receiver made
inside a trace (a request, a delivery) runs in a span of its own:

    post_save notifications.signals.queue_welcome

named after the signal and the receiver (its dotted path in the project),
with the signal's full name, the receiver's qualified name
(`code.function.name`, `code.namespace`) and the sender as attributes. The
sender is a model's label or a class's dotted name, never an instance's
repr, which may hold an email address. An exception a receiver raises is
recorded on its span and raised on: its type and traceback, not its
message, which may quote a row (IntegrityError: Key (email)=(...)). The
log line of the error, with the span's trace_id, has the message.

A receiver called outside any trace (request_started before the request's
span opens, request_finished after it closes, a migration's post_migrate)
starts none: it would be a trace of one span, on every request.
"""

import functools
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.dispatch import Signal
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from . import dispatch, inventory

tracer = trace.get_tracer(__name__)


def install() -> None:
    """Start a span around each call of a project receiver inside a trace (idempotent)."""
    if watch not in dispatch.watchers:
        dispatch.add(watch)


def uninstall() -> None:
    if watch in dispatch.watchers:
        dispatch.remove(watch)


def watch(
    signal: Signal, sender: object, receiver: dispatch.Receiver
) -> dispatch.Around | None:
    """A span around the project's receivers, when a trace is going on."""
    if not trace.get_current_span().is_recording():
        return None
    target = inventory.unwrap(receiver)
    module = inventory.module_of(target)
    if not inventory.is_project(module):
        return None
    name = inventory.dotted_name(target)
    short = name.removeprefix(inventory.project_package() + ".")
    signal_name = signal_names().get(id(signal), "signal")
    attributes = {
        "django.signal": signal_name,
        "django.signal.sender": describe(sender),
        "code.function.name": name,
        "code.namespace": module,
    }
    span_name = f"{signal_name.rsplit('.', 1)[-1]} {short}"
    return functools.partial(receiver_span, span_name, attributes)


@contextmanager
def receiver_span(name: str, attributes: dict[str, str]) -> Iterator[None]:
    """One call of a receiver: its span records an exception (and error status)."""
    with tracer.start_as_current_span(
        name,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except BaseException as error:
            record_error(span, error)
            raise


def record_error(span: Span, error: BaseException) -> None:
    """Mark a span as failed by `error`: its type and where it was raised, not its message.

    The frames without their source lines, which may quote the message too.
    """
    kind = type(error)
    frames = [
        f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n'
        for frame in traceback.extract_tb(error.__traceback__)
    ]
    span.record_exception(
        error,
        attributes={
            "exception.message": kind.__qualname__,
            "exception.stacktrace": "".join(frames)
            + f"{kind.__module__}.{kind.__qualname__}",
        },
    )
    span.set_status(Status(StatusCode.ERROR, kind.__qualname__))


@functools.cache
def signal_names() -> dict[int, str]:
    """{id(signal): name} of every signal the inventory knows, as `manage.py signals` names them.

    Read once, at the first traced call: by then every app is loaded.
    """
    return {id(signal): name for name, signal in inventory.signals()}


def describe(sender: Any) -> str:
    """A model's label, a class's dotted name, or "any": never an instance's repr."""
    if sender is None:
        return "any"
    if not isinstance(sender, (type, str)):
        sender = type(sender)
    return inventory.describe_sender(sender)
