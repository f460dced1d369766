"""Tracing with OpenTelemetry: off unless an OTLP endpoint is configured (docs/tracing.md).

configure() runs in every process of the Procfile once Django is set up,
before it serves or works: WebConfig.ready() calls it (a Gunicorn worker
after its fork, runserver, {% if cookiecutter.background == "django-tasks" %}db_worker, {% endif %}any manage.py command){% if cookiecutter.background == "celery" %}, and in a
Celery worker each pool process calls it after its fork (config/celery.py){% endif %}.

It turns tracing on only when OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set and OTEL_SDK_DISABLED is not
"true". Off, it returns at once: no OpenTelemetry module is imported,
nothing is wrapped, nothing is started. So this module imports only the
standard library at the top.

On, it sets up the SDK (a batch processor exporting OTLP/HTTP protobuf,
so a collector that is down never slows or fails a request) and the Django
and psycopg instrumentations. It imports none of the project's apps: the
spans of the signal receivers are signal_tools' own (signal_tools/tracing.py),
installed by its AppConfig.ready() when settings.SIGNAL_TOOLS_TRACE_RECEIVERS,
which config/settings/base.py sets to enabled(), says so.

The OTEL_* variables of the parts set up here work as the SDK documents
them (the exporter's headers, timeout and TLS files, the sampler, the
batch processor): OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over
the defaults here (resource()). OTEL_TRACES_EXPORTER and the OTLP
*_PROTOCOL variables are not read: the exporter is always OTLP/HTTP
protobuf. docs/tracing.md lists which variables work.
"""

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the annotations only: nothing is imported at run time
    from django.http import HttpRequest, HttpResponse
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import Span

SERVICE_NAME = "{{ cookiecutter.project_slug }}"

# The TracerProvider of this process once configure() has turned tracing on.
provider: "TracerProvider | None" = None
configured_pid: int | None = None
{%- if cookiecutter.background == "celery" %}
# Set in a process that forks the processes that do the work (Celery's main
# process): they configure tracing themselves, after the fork.
deferred = False
{%- endif %}


def enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the environment asks for tracing: an OTLP endpoint, and the SDK not disabled."""
    endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    return bool(endpoint) and not disabled


def configure() -> bool:
    """Turn tracing on in this process if the environment asks for it; return whether it is on.

    Once per process, after Django's settings are loaded (they read .env,
    where OTEL_* may be) and before Django loads its middleware, which the
    Django instrumentation adds to. A second call does nothing.
    """
    global provider, configured_pid
    if {% if cookiecutter.background == "celery" %}deferred or {% endif %}configured_pid == os.getpid():
        return provider is not None
    configured_pid = os.getpid()
    if not enabled():
        return False

    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter,
    )
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    sampler = None if "OTEL_TRACES_SAMPLER" in os.environ else default_sampler()
    provider = TracerProvider(resource=resource(), sampler=sampler)
    provider.add_span_processor(
        BatchSpanProcessor(without_personal_data(OTLPSpanExporter()))
    )
    trace.set_tracer_provider(provider)

    DjangoInstrumentor().instrument(
        response_hook=keep_route_only,
        # A load balancer's health probes would be most of the traces.
        **(
            {}
            if os.environ.get("OTEL_PYTHON_DJANGO_EXCLUDED_URLS")
            or os.environ.get("OTEL_PYTHON_EXCLUDED_URLS")
            else {"excluded_urls": "healthz"}
        ),
    )
{%- if cookiecutter.database == "postgresql" %}
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    PsycopgInstrumentor().instrument()
{%- endif %}
    return True


def resource() -> "Resource":
    """The SDK's resource, with the project's defaults where the environment sets nothing.

    OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win, as the SDK
    documents (attributes given to Resource.create() would replace theirs).
    Where they name no service, the SDK's "unknown_service:python" becomes
    the project's slug, and process.pid is added unless they set it. The
    SDK (1.45) gives each process a service.instance.id of its own, so the
    web worker and the task worker that share a trace tell apart.
    """
    from opentelemetry.sdk.resources import SERVICE_NAME as NAME
    from opentelemetry.sdk.resources import Resource

    detected = Resource.create()
    defaults: dict[str, str | int] = {}
    if str(detected.attributes.get(NAME, "")).startswith("unknown_service"):
        defaults[NAME] = SERVICE_NAME
    if "process.pid" not in detected.attributes:
        defaults["process.pid"] = os.getpid()
    return detected.merge(Resource(defaults))


# What the Django instrumentation records of the person behind a request:
# the client's address and port (old and new semantic conventions) and its
# user agent. Personal data, kept by the audit trail where it is needed;
# the user's id is enough to follow a trace.
CLIENT_ATTRIBUTES = frozenset(
    {
        "client.address",
        "client.port",
        "http.client_ip",
        "http.user_agent",
        "net.peer.ip",
        "net.peer.name",
        "net.peer.port",
        "network.peer.address",
        "network.peer.port",
        "user_agent.original",
        "user_agent.synthetic.type",
    }
)


def without_personal_data(exporter: "SpanExporter") -> "SpanExporter":
    """The exporter, given request and query spans without personal data.

    The psycopg instrumentation records a failed query's exception on its
    span, message and all, and a unique violation's message quotes the
    row: "DETAIL: Key (email)=(ada@example.com) already exists" when two
    signups race for one address; the Django instrumentation does the same
    with the exception of a 500 on the request span. As on the receivers'
    spans (signal_tools/tracing.py), the message becomes the exception's
    type, the stacktrace keeps its frames only, and so does the status.
    The request span also loses the client's address and user agent
    (CLIENT_ATTRIBUTES).
    """
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.trace import SpanKind, Status

    def scrub(span: ReadableSpan) -> ReadableSpan:
        if span.kind not in (SpanKind.SERVER, SpanKind.CLIENT):
            return span  # the receivers' spans are scrubbed where they are made
        kept = dict(span.attributes or {})
        if span.kind is SpanKind.SERVER:
            kept = {k: v for k, v in kept.items() if k not in CLIENT_ATTRIBUTES}
        failed = span.events or span.status.description
        if not failed and len(kept) == len(span.attributes or {}):
            return span  # most queries: nothing to take off
        events, kind = [], ""
        for event in span.events:
            attributes = dict(event.attributes or {})
            if event.name == "exception":
                kind = str(attributes.get("exception.type", "")).rsplit(".", 1)[-1]
                attributes["exception.message"] = kind
                stacktrace = str(attributes.get("exception.stacktrace", ""))
                frames = [
                    line + "\n"
                    for line in stacktrace.splitlines()
                    if line.startswith('  File "')
                ]
                attributes["exception.stacktrace"] = "".join(frames) + str(
                    attributes.get("exception.type", "")
                )
            events.append(Event(event.name, attributes, event.timestamp))
        status = span.status
        if status.description:
            status = Status(status.status_code, kind or None)
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=kept,
            events=events,
            links=span.links,
            kind=span.kind,
            status=status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )

    class WithoutPersonalData(SpanExporter):
        def export(self, spans: "Sequence[ReadableSpan]") -> SpanExportResult:
            return exporter.export([scrub(span) for span in spans])

        def shutdown(self) -> None:
            exporter.shutdown()

        def force_flush(self, timeout_millis: int = 30000) -> bool:
            return exporter.force_flush(timeout_millis)

    return WithoutPersonalData()


def default_sampler() -> "Sampler":
    """Every trace that starts at a request, a delivery or a receiver; no lone query.

    Without it, each query made outside any span would be a trace of one
    span: {% if cookiecutter.background == "django-tasks" %}db_worker polling its queue, {% elif cookiecutter.background == "celery" %}Celery's sweep, {% endif %}a migration, a command.
    OTEL_TRACES_SAMPLER, when set, replaces it.
    """
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_OFF,
        ALWAYS_ON,
        ParentBased,
        Sampler,
        SamplingResult,
    )
    from opentelemetry.trace import SpanKind

    class NoLoneQueries(Sampler):
        """A trace never starts at a client span (a query): it has no parent to show."""

        def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
            kind = kwargs.get("kind", args[3] if len(args) > 3 else None)
            sampler = ALWAYS_OFF if kind is SpanKind.CLIENT else ALWAYS_ON
            return sampler.should_sample(*args, **kwargs)

        def get_description(self) -> str:
            return "NoLoneQueries"

    return ParentBased(root=NoLoneQueries())


def keep_route_only(
    span: "Span", request: "HttpRequest", response: "HttpResponse"
) -> None:
    """Put the route on the request span, not the path: a path or query may hold a token.

    The Django instrumentation records the path as the client sent it
    (http.target, url.path, url.query), e.g. the token of a password reset
    link. The span name already uses the route ("GET accounts/reset/<uidb64>/<token>/").
    """
    attributes = getattr(span, "attributes", None) or {}
    match = request.resolver_match
    route = f"/{match.route}" if match is not None else "(unmatched)"
    for key in ("http.target", "url.path"):
        if key in attributes:
            span.set_attribute(key, route)
    for key in ("url.query", "http.url", "url.full"):
        if key in attributes:
            span.set_attribute(key, "")
{%- if cookiecutter.background == "celery" %}


def defer_to_forks() -> None:
    """In a process that only forks workers: they configure tracing after their fork.

    Spans need the worker's own process id, and an export thread started
    before a fork is not the child's.
    """
    global deferred
    deferred = True


def configure_after_fork() -> bool:
    """configure() in a forked worker process (Celery's pool)."""
    global deferred
    deferred = False
    return configure()
{%- endif %}


def shutdown() -> None:
    """Export the spans still waiting, then stop (at a worker's exit)."""
    if provider is not None and configured_pid == os.getpid():
        provider.shutdown()
