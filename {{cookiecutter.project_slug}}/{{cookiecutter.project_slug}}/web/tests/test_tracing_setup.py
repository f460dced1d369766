"""config/tracing.py, which WebConfig.ready() calls: the SDK's resource, the exporter, the setup."""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import IntegrityError
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode

from config import tracing

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def environ(monkeypatch):
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_with_nothing_set_the_service_is_the_project(environ):
    attributes = tracing.resource().attributes

    assert attributes["service.name"] == "{{ cookiecutter.project_slug }}"
    assert attributes["process.pid"] == os.getpid()
    assert attributes["service.instance.id"]  # the SDK's, one per process


def test_the_environment_wins_over_the_defaults(environ):
    environ.setenv(
        "OTEL_RESOURCE_ATTRIBUTES",
        "service.name=shop-eu,service.instance.id=node-1,process.pid=7,deployment.environment=eu",
    )
    attributes = tracing.resource().attributes

    assert attributes["service.name"] == "shop-eu"
    assert attributes["service.instance.id"] == "node-1"
    assert attributes["process.pid"] == "7"
    assert attributes["deployment.environment"] == "eu"

    environ.setenv("OTEL_SERVICE_NAME", "shop-web")

    assert tracing.resource().attributes["service.name"] == "shop-web"


UNIQUE_VIOLATION = (
    'duplicate key value violates unique constraint "users_user_email_key"\n'
    "DETAIL:  Key (email)=(ada@example.com) already exists."
)


@pytest.fixture
def tracer_and_exported():
    """A tracer whose spans end up, through without_personal_data(), in memory."""
    recorded = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(tracing.without_personal_data(recorded))
    )
    return provider.get_tracer(__name__), recorded


def test_a_failed_query_span_is_exported_without_the_exception_message(
    tracer_and_exported,
):
    tracer, recorded = tracer_and_exported

    # As the psycopg (dbapi) instrumentation records a failed query.
    with (
        tracer.start_as_current_span("POST accounts/signup/", kind=SpanKind.SERVER),
        contextlib.suppress(IntegrityError),
        tracer.start_as_current_span("INSERT", kind=SpanKind.CLIENT),
    ):
        raise IntegrityError(UNIQUE_VIOLATION)

    [query, request] = recorded.get_finished_spans()
    assert query.kind is SpanKind.CLIENT
    [event] = query.events
    attributes = dict(event.attributes or {})
    assert attributes["exception.type"] == "django.db.utils.IntegrityError"
    assert attributes["exception.message"] == "IntegrityError"
    assert 'File "' in str(attributes["exception.stacktrace"])
    assert query.status.status_code is StatusCode.ERROR
    assert query.status.description == "IntegrityError"
    assert "ada@example.com" not in repr(attributes)
    # The server span here had no exception.
    assert request.events == ()


def test_a_request_span_is_exported_without_the_client_or_a_500s_message(
    tracer_and_exported,
):
    tracer, recorded = tracer_and_exported
    # As the Django instrumentation records a request that ends in a 500.
    with (
        contextlib.suppress(IntegrityError),
        tracer.start_as_current_span(
            "POST accounts/signup/",
            kind=SpanKind.SERVER,
            attributes={
                "http.request.method": "POST",
                "http.route": "accounts/signup/",
                "client.address": "203.0.113.7",
                "client.port": 51000,
                "net.peer.ip": "203.0.113.7",
                "user_agent.original": "Mozilla/5.0 (Ada's laptop)",
                "http.user_agent": "Mozilla/5.0 (Ada's laptop)",
            },
        ),
    ):
        raise IntegrityError(UNIQUE_VIOLATION)

    [request] = recorded.get_finished_spans()
    assert dict(request.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "accounts/signup/",
    }
    [event] = request.events
    assert dict(event.attributes or {})["exception.message"] == "IntegrityError"
    assert "ada@example.com" not in repr(event.attributes)
    assert request.status.description == "IntegrityError"


def test_a_span_of_neither_kind_is_exported_as_it_is(tracer_and_exported):
    tracer, recorded = tracer_and_exported
    with tracer.start_as_current_span("work", attributes={"client.address": "x"}):
        pass

    [span] = recorded.get_finished_spans()
    assert dict(span.attributes or {}) == {"client.address": "x"}


# Run in a process of its own with an OTLP endpoint (nothing listens there,
# and no span is ended: nothing is exported).
ON = """
import json, sys, django
from opentelemetry import trace
early = trace.get_tracer("early")  # a proxy: no provider is set yet
django.setup()
from django.conf import settings
from config import tracing
from {{ cookiecutter.project_slug }}.signal_tools import dispatch
print(json.dumps({
    "setting": settings.SIGNAL_TOOLS_TRACE_RECEIVERS,
    "watchers": [w.__module__ for w in dispatch.watchers],
    "provider": type(tracing.provider).__name__,
    "early_records": early.start_span("s").is_recording(),
}))
"""


def test_with_an_endpoint_the_sdk_is_set_up_and_signal_tools_traces_its_receivers():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9"
    result = subprocess.run(
        [sys.executable, "-c", ON],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert found == {
        "setting": True,
        "watchers": ["{{ cookiecutter.project_slug }}.signal_tools.tracing"],
        "provider": "TracerProvider",
        "early_records": True,
    }
