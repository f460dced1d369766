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
so a collector that is down never slows or fails a request), the Django
and psycopg instrumentations, and the spans of the project's signal
receivers (signal_tools/tracing.py). The other OTEL_* variables work as
the SDK documents them; OTEL_SERVICE_NAME defaults to the project's slug.
"""

import os
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for the annotations only: nothing is imported at run time
    from django.http import HttpRequest, HttpResponse
    from opentelemetry.sdk.trace import TracerProvider
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
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from {{ cookiecutter.project_slug }}.signal_tools import tracing as signal_tracing

    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME,
            # One per process: the web worker and the task worker that share
            # a trace tell apart.
            "service.instance.id": str(uuid.uuid4()),
            "process.pid": os.getpid(),
        }
    )
    sampler = None if "OTEL_TRACES_SAMPLER" in os.environ else default_sampler()
    provider = TracerProvider(resource=resource, sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
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
    signal_tracing.install()
    return True


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
