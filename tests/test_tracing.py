"""One OpenTelemetry trace from the signup request to the SMTP send, run for real.

For each background choice, a PostgreSQL project runs its Procfile's
processes as tests/test_production.py runs them (production settings,
gunicorn with config/gunicorn.py, the worker and beat), with
OTEL_EXPORTER_OTLP_ENDPOINT pointed at an OTLP/HTTP receiver started here
(tests/support/otlp_receiver.py). A signup over HTTP sends its welcome
email to aiosmtpd; the exported spans must then make one trace: the
request, a span per project receiver that ran (the slow-receiver guard,
at 0 ms, names each of them in the log), the delivery under the receiver
that queued it (on the worker, in another process, when there is one),
and the SMTP send. A send the mail server refuses is logged inside the
delivery's span, with its trace id, and its retry joins the same trace.
No email address, client address or user agent is in any byte exported.
Then the receiver stops:
signups still succeed and their emails still go out.
"""

import json
import re
import time
import uuid

import pytest
from conftest import BACKGROUNDS
from support import harness
from support.mail_sink import MailSink
from support.otlp_receiver import OtlpReceiver
from test_production import Stack, stack_environ

WAIT = harness.WAIT
SLUG = "trace_check"
SIGNUP_SPAN = "POST accounts/signup/"
QUEUE_WELCOME = "post_save notifications.signals.queue_welcome"
# The guard's warning, one per project receiver that ran in the request.
SLOW = re.compile(r"^Slow signal receiver (\S+) took .* during POST /accounts/signup/")

# What the browser says it is: never exported.
USER_AGENT = "TraceCheckBrowser/1.0"

pytestmark = pytest.mark.slow


class NamedBrowser(harness.Browser):
    """A browser that sends a User-Agent, as every real one does."""

    def proxy_headers(self):
        return {**super().proxy_headers(), "User-Agent": USER_AGENT}


@pytest.fixture(params=BACKGROUNDS)
def traced(request, render, make_project, tmp_path):
    """A PostgreSQL project for one background, built, released, and exporting its spans."""
    background = request.param
    path = render(
        tmp_path / "project",
        project_slug=SLUG,
        database="postgresql",
        background=background,
    )
    project = make_project(path, "postgresql", background).with_services()
    port = harness.free_port()
    prefix = f"trace-{uuid.uuid4().hex[:12]}:"
    with MailSink() as mail, OtlpReceiver() as receiver:
        env = stack_environ(port, mail.port) | {
            # Tracing on: the standard variables only.
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            # Export every 100 ms, not every 5 s; give up on a dead receiver
            # after 2 s, not 10, so the processes stop quickly.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_EXPORTER_OTLP_TIMEOUT": "2",
        }
        if background == "celery":
            env["CELERY_BROKER_TRANSPORT_OPTIONS"] = json.dumps(
                {"global_keyprefix": prefix}
            )
        if background != "celery":  # the sweep's wait, and send_unsent's
            env["NOTIFICATIONS_SWEEP_GRACE"] = "1"
        if background == "django-tasks":
            env["NOTIFICATIONS_SWEEP_INTERVAL"] = "1"
        stack = Stack(project, env, tmp_path)
        stack.mail = mail
        stack.receiver = receiver
        with stack.built_and_released(prefix):
            yield stack


def in_trace(spans, trace_id):
    return [span for span in spans if span.trace_id == trace_id]


def ancestors(span, spans):
    """The spans above `span`, nearest first."""
    by_id = {s.span_id: s for s in spans}
    found = []
    while span.parent_id in by_id:
        span = by_id[span.parent_id]
        found.append(span)
    return found


def complete_signups(spans):
    """The trace ids of the signup requests whose email's send has been exported."""
    requests = [s for s in spans if s.name == SIGNUP_SPAN]
    sends = {s.trace_id for s in spans if s.name == "send_mail"}
    return [s.trace_id for s in requests if s.trace_id in sends]


def records(stack):
    """The JSON log records of every process: (process name, record)."""
    for name, line in stack.lines():
        if line.startswith("{"):
            yield name, json.loads(line)


def test_a_signup_is_one_trace_from_the_request_to_the_smtp_send(traced):
    mail, receiver = traced.mail, traced.receiver
    background = traced.project.background
    traced.start()

    response, page = NamedBrowser(traced.port).sign_up("alice")
    assert response.status == 302, page
    assert mail.wait_for(lambda m: m.count()["alice@example.com"] == 1, WAIT)
    assert receiver.wait_for(complete_signups, WAIT), receiver.all_spans()
    [trace_id] = complete_signups(receiver.all_spans())
    spans = in_trace(receiver.all_spans(), trace_id)
    names = [span.name for span in spans]

    # The request, as the root.
    [request_span] = [s for s in spans if s.name == SIGNUP_SPAN]
    assert request_span.parent_id == ""
    assert request_span.resource["service.name"] == SLUG
    # Who sent it is the audit trail's business, not the trace's.
    assert (
        not {"client.address", "user_agent.original"} & request_span.attributes.keys()
    )
    # Its queries (the psycopg instrumentation).
    queries = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    assert queries, names

    # A span for each project receiver that ran in the request, as the
    # slow-receiver guard names them, each under the request. Those of
    # request_started run before the request's span opens, outside the trace.
    inventory = json.loads(traced.py("manage.py", "signals", "--format", "json").stdout)
    before_the_span = {
        row["receiver"] for row in inventory if row["signal"] == "request_started"
    }
    ran = {
        SLOW.match(record["message"])[1]
        for _, record in records(traced)
        if SLOW.match(record.get("message", ""))
    } - before_the_span
    traced_receivers = {
        s.attributes["code.function.name"]: s
        for s in spans
        if "django.signal" in s.attributes
    }
    assert f"{SLUG}.notifications.signals.queue_welcome" in ran
    assert ran <= traced_receivers.keys(), (ran, names)
    for name in ran:
        span = traced_receivers[name]
        assert request_span in ancestors(span, spans), name
        assert span.attributes["code.namespace"] == name.rsplit(".", 1)[0]

    # The delivery, a child of the receiver that queued it, and its send.
    # (queue_welcome runs at each save of the user; it queues at the first.)
    [delivery] = [s for s in spans if s.name == "deliver welcome"]
    [send] = [s for s in spans if s.name == "send_mail"]
    [queueing] = [s for s in spans if s.span_id == delivery.parent_id]
    assert queueing.name == QUEUE_WELCOME
    assert request_span in ancestors(queueing, spans)
    assert send.parent_id == delivery.span_id
    assert send.attributes["server.address"] == "127.0.0.1"
    if background != "none":  # sent by the worker, another process
        assert (
            delivery.resource["service.instance.id"]
            != (request_span.resource["service.instance.id"])
        )
        assert delivery.resource["process.pid"] != request_span.resource["process.pid"]

    # A send the mail server refuses: logged inside the delivery's span, with
    # the trace's ids; the retry (Celery's, the db_worker's sweep, or the
    # cron job's send_unsent) is a second delivery in the same trace.
    mail.refuse_next("bob@example.com")
    response, page = NamedBrowser(traced.port).sign_up("bob")
    assert response.status == 302, page
    if background == "none":
        assert harness.poll(lambda: "failed to send" in traced.log(), WAIT)
        time.sleep(2)  # its wait after one attempt: 2 x NOTIFICATIONS_SWEEP_GRACE
        assert (
            traced.py("manage.py", "send_unsent").stdout.strip() == "1 sent, 0 failed"
        )
    assert mail.wait_for(lambda m: m.count()["bob@example.com"] == 1, WAIT)

    def bob_delivered_twice(spans):
        by_trace = {}
        for span in spans:
            if span.name == "deliver welcome":
                by_trace.setdefault(span.trace_id, []).append(span)
        return [d for t, d in by_trace.items() if t != trace_id and len(d) == 2]

    assert receiver.wait_for(bob_delivered_twice, WAIT)
    [deliveries] = bob_delivered_twice(receiver.all_spans())
    failed, retried = sorted(
        deliveries, key=lambda d: d.attributes["notification.attempt"]
    )
    assert failed.parent_id == retried.parent_id  # both under bob's queue_welcome
    assert failed.status == 2  # error
    assert [name for name, _ in failed.events] == ["exception"]
    [line] = [
        record
        for _, record in records(traced)
        if record["logger"] == f"{SLUG}.notifications.outbox"
        and "failed to send" in record["message"]
    ]
    assert (line["trace_id"], line["span_id"]) == (failed.trace_id, failed.span_id)

    # No email address, client address or user agent in what was exported.
    exported = receiver.received()
    assert b"@example.com" not in exported
    assert USER_AGENT.encode() not in exported

    # The receiver goes away: signups and their emails go on.
    receiver.stop()
    started = time.monotonic()
    response, page = NamedBrowser(traced.port).sign_up("carol")
    assert response.status == 302, page
    assert mail.wait_for(lambda m: m.count()["carol@example.com"] == 1, WAIT)
    assert time.monotonic() - started < WAIT
    traced.stop()
