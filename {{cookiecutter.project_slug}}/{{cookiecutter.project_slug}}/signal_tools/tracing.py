"""A span for each call of the project's signal receivers (docs/tracing.md).

config/tracing.py calls install() once tracing is on; off, this module is
never imported. Through dispatch.py, each call of a project receiver made
inside a trace (a request, a delivery) runs in a span of its own:

    post_save notifications.signals.queue_welcome

named after the signal and the receiver (its dotted path in the project),
with the signal's full name, the receiver's qualified name
(`code.function.name`, `code.namespace`) and the sender as attributes. The
sender is a model's label or a class's dotted name, never an instance's
repr, which may hold an email address. An exception a receiver raises is
recorded on its span and raised on.

A receiver called outside any trace (request_started before the request's
span opens, request_finished after it closes, a migration's post_migrate)
starts none: it would be a trace of one span, on every request.
"""

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.dispatch import Signal
from opentelemetry import trace

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
    with tracer.start_as_current_span(name, attributes=attributes):
        yield


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
