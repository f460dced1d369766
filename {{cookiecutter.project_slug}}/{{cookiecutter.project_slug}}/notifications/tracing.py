"""The outbox's part of a trace: a row carries it from queueing to delivery (docs/tracing.md).

A notification is queued inside the span of the receiver that queues it
and delivered later, somewhere else: after the response, on a worker, or
by the sweep an hour on. The row keeps the W3C `traceparent` of the
queueing span, and the delivery's span takes it as its parent, so the
email joins the trace of the change that caused it wherever it is sent.
The send itself is a child span. Spans carry ids and the kind of email,
never an address; a failed send records the error's type, not its message
(an SMTP error quotes the recipient).

With tracing off (config/tracing.py), nothing here imports OpenTelemetry:
the row's traceparent stays empty and no span starts.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:  # for the annotations only
    from opentelemetry.trace import Span

    from .models import Notification


def tracing_on() -> bool:
    """Whether this process traces: a tracer provider is set (config/tracing.py, a test)."""
    api = sys.modules.get("opentelemetry.trace")
    return api is not None and not isinstance(
        api.get_tracer_provider(), api.ProxyTracerProvider
    )


def current_traceparent() -> str:
    """The W3C traceparent of the current span, or "" (tracing off, or outside a trace)."""
    if not tracing_on():
        return ""
    from opentelemetry.trace.propagation.tracecontext import (
        TraceContextTextMapPropagator,
    )

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent", "")


@contextmanager
def delivery_span(notification: "Notification") -> Iterator["Span | None"]:
    """The span of one delivery, a child of the span that queued the notification."""
    if not tracing_on():
        yield None
        return
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import (
        TraceContextTextMapPropagator,
    )

    parent = None
    if notification.traceparent:
        carrier = {"traceparent": notification.traceparent}
        parent = TraceContextTextMapPropagator().extract(carrier)
    tracer = trace.get_tracer(__name__)
    with tracer.start_as_current_span(
        f"deliver {notification.kind}",
        context=parent,
        attributes={
            "notification.id": notification.pk,
            "notification.kind": notification.kind,
            "notification.attempt": notification.attempts,
            "user.id": str(notification.user_id),
        },
    ) as span:
        yield span


def record_failure(span: "Span | None", error: Exception) -> None:
    """Mark a delivery's span as failed (the error is caught, not raised through it).

    Its type, not its message: an SMTP error quotes the recipient's address.
    """
    if span is not None:
        from ..signal_tools.tracing import record_error

        record_error(span, error)


@contextmanager
def send_span() -> Iterator[None]:
    """The span of the email's send (the SMTP conversation, with the SMTP backend)."""
    if not tracing_on():
        yield
        return
    from opentelemetry import trace

    tracer = trace.get_tracer(__name__)
    attributes = {"email.backend": settings.MAILERS["default"]["BACKEND"]}
    host = settings.MAILERS["default"].get("OPTIONS", {}).get("host")
    if host:
        attributes["server.address"] = str(host)
    with tracer.start_as_current_span(
        "send_mail",
        kind=trace.SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield
        except Exception as error:
            record_failure(span, error)
            raise
