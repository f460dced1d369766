"""tracing.py: the outbox row carries the trace from the queueing receiver to the delivery."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from opentelemetry.trace import StatusCode

from ..models import Notification
from ..outbox import Outcome, deliver

User = get_user_model()

QUEUE_WELCOME = "post_save notifications.signals.queue_welcome"


def traceparent_of(span):
    context = span.context
    return (
        f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    )


@pytest.mark.django_db
def test_the_row_keeps_the_queueing_receivers_trace_and_a_later_delivery_joins_it(
    spans, outbox, django_capture_on_commit_callbacks
):
    # The delivery waits for the commit, which this test's transaction never
    # makes: the row is delivered later, outside any trace, as by the sweep.
    with (
        django_capture_on_commit_callbacks(execute=False),
        spans.tracer.start_as_current_span("signup"),
    ):
        user = User.objects.create_user("ada", "ada@example.com")

    queueing = spans.named(QUEUE_WELCOME)
    notification = Notification.objects.get(user=user)
    assert notification.traceparent == traceparent_of(queueing)

    assert deliver(notification.pk) is Outcome.SENT

    assert len(outbox) == 1
    delivery = spans.named("deliver welcome")
    assert delivery.context.trace_id == queueing.context.trace_id
    assert delivery.parent.span_id == queueing.context.span_id
    assert dict(delivery.attributes) == {
        "notification.id": notification.pk,
        "notification.kind": "welcome",
        "notification.attempt": 1,
        "user.id": str(user.pk),
    }
    [send] = spans.children_of(delivery)
    assert send.name == "send_mail"
    assert send.attributes["email.backend"].endswith("locmem.EmailBackend")


@pytest.mark.django_db
def test_a_failed_send_is_an_error_on_both_spans(spans, broken_email):
    with spans.tracer.start_as_current_span("signup"):
        user = User.objects.create_user("ada", "ada@example.com")

    assert deliver(Notification.objects.get(user=user).pk) is Outcome.FAILED

    delivery = spans.named("deliver welcome")
    send = spans.named("send_mail")
    for span in (delivery, send):
        assert span.status.status_code is StatusCode.ERROR
        [event] = span.events
        assert event.attributes["exception.type"] == "ConnectionRefusedError"
        # Not the message: an SMTP error quotes the recipient's address.
        assert "mail server is down" not in str(event.attributes)


@pytest.mark.django_db
def test_a_row_queued_outside_a_trace_starts_its_own(spans, outbox):
    user = User.objects.create_user("ada", "ada@example.com")
    notification = Notification.objects.get(user=user)
    assert notification.traceparent == ""

    deliver(notification.pk)

    assert spans.named("deliver welcome").parent is None


@pytest.mark.django_db
def test_with_tracing_off_nothing_is_stored():
    user = User.objects.create_user("ada", "ada@example.com")

    assert Notification.objects.get(user=user).traceparent == ""


# Run in a process of its own, with no OTEL_* variable: Django set up as in
# production (WebConfig.ready() calls config/tracing.py), a signup through
# the signup page with its welcome email sent, and Gunicorn's config read.
OFF = """
import json, sys, django
TRACING = ("opentelemetry.sdk.trace", "opentelemetry.exporter", "opentelemetry.instrumentation")
try:  # redis-py imports OpenTelemetry's SDK metrics by itself: not ours
    import redis
except ImportError:
    pass
before = {m for m in sys.modules if m.startswith("opentelemetry")}
django.setup()
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
if connection.vendor != "sqlite":  # SQLite's test database is in memory
    connection.settings_dict["TEST"]["NAME"] = sys.argv[1]
old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
try:
    from {{ cookiecutter.project_slug }}.users.tests.factories import signup_data
    response = Client().post("/accounts/signup/", signup_data())
    assert response.status_code == 302, response.status_code
    assert len(mail.outbox) == 1, mail.outbox
    import config.gunicorn
    from config import tracing
    from {{ cookiecutter.project_slug }}.signal_tools import dispatch
    print(json.dumps({
        "watchers": [w.__module__ for w in dispatch.watchers],
        "provider": repr(tracing.provider),
        "library": sorted(before),
        "ours": sorted(m for m in sys.modules if m.startswith("opentelemetry") and m not in before),
        "tracing": sorted(m for m in sys.modules if m.startswith(TRACING)),
    }))
finally:
    connection.creation.destroy_test_db(old_name, verbosity=0)
"""


def test_with_no_otel_variable_the_project_imports_and_wraps_nothing():
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    root = Path(__file__).resolve().parents[3]
    # A test database of its own, beside this run's.
    database = f"test_tracing_off_{os.getpid()}"
    result = subprocess.run(
        [sys.executable, "-c", OFF, database],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["watchers"] == []
    assert found["provider"] == "None"
    # Nothing imported by the project's code; what redis-py imported (its
    # metrics, when installed: docs/tracing.md) is not a tracer, an
    # exporter or an instrumentation.
    assert found["ours"] == [], found
    assert found["tracing"] == [], found
