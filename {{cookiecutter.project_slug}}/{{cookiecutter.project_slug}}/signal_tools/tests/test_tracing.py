"""tracing.py: a span for each call of a project receiver, inside a trace."""

import asyncio
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.dispatch import Signal
from opentelemetry.trace import StatusCode

from ...users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()

pinged = Signal()


class Boom(Exception):
    pass


def failing(sender: Any, **kwargs: Any) -> None:
    """Raises, as a broken receiver would, with an address in its message."""
    raise Boom("ada@example.com is taken")


async def async_failing(sender: Any, **kwargs: Any) -> None:
    """An async receiver that raises."""
    await asyncio.sleep(0)
    raise Boom("ada@example.com is taken")


def test_each_receiver_call_in_a_trace_is_a_span_named_after_signal_and_receiver(
    spans,
):
    with spans.tracer.start_as_current_span("test") as root:
        User.objects.create_user("ada", "ada@example.com")

    expected = {
        "pre_save users.signals.unconfirm_new_email",
        "post_save users.signals.create_profile",
        "post_save notifications.signals.queue_welcome",
    }
    assert expected <= set(spans.names())
    profile = spans.named("post_save users.signals.create_profile")
    assert profile.parent.span_id == root.get_span_context().span_id
    assert dict(profile.attributes) == {
        "django.signal": "post_save",
        "django.signal.sender": "users.User",
        "code.function.name": "{{ cookiecutter.project_slug }}.users.signals.create_profile",
        "code.namespace": "{{ cookiecutter.project_slug }}.users.signals",
    }
    # The profile's own save, inside create_profile: its receivers are children.
    [avatar] = [
        s for s in spans.children_of(profile) if "remember_old_avatar" in s.name
    ]
    assert avatar.name == "pre_save users.signals.remember_old_avatar"
    assert avatar.attributes["django.signal.sender"] == "users.Profile"


def test_only_the_projects_receivers_get_spans(spans, client):
    user = UserFactory(username="ada")
    with spans.tracer.start_as_current_span("test"):
        client.force_login(user)

    # Django's update_last_login and the project's audit receiver both ran.
    assert "user_logged_in audit.signals.record_login" in spans.names()
    assert not [name for name in spans.names() if "update_last_login" in name]


def test_a_custom_signal_is_named_by_its_path_in_the_project(spans, rf):
    from ...users.signals import user_signed_up

    user = UserFactory(username="ada")
    with spans.tracer.start_as_current_span("test"):
        user_signed_up.send(sender=User, user=user, request=rf.post("/"))

    span = spans.named("user_signed_up audit.signals.record_signup")
    assert span.attributes["django.signal"] == "users.signals.user_signed_up"


def test_outside_a_trace_receivers_run_without_spans(spans):
    User.objects.create_user("ada", "ada@example.com")

    assert spans.get_finished_spans() == ()


@pytest.mark.parametrize("send", ["send", "asend"])
def test_a_receivers_exception_is_recorded_on_its_span_and_raised(spans, send):
    receiver = failing if send == "send" else async_failing
    pinged.connect(receiver, dispatch_uid="tests.failing")

    def send_it() -> object:
        if send == "send":
            return pinged.send(sender=User)
        return asyncio.run(pinged.asend(sender=User))

    try:
        with spans.tracer.start_as_current_span("test"), pytest.raises(Boom):
            send_it()
    finally:
        pinged.disconnect(dispatch_uid="tests.failing")

    name = f"signal signal_tools.tests.test_tracing.{receiver.__name__}"
    span = spans.named(name)
    assert span.status.status_code is StatusCode.ERROR
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"].endswith("Boom")
    assert "test_tracing.py" in event.attributes["exception.stacktrace"]
    # The type and the traceback, not the message: it may quote a row.
    assert not [v for v in event.attributes.values() if "@" in str(v)]
    assert "@" not in str(span.status.description)


def test_send_robust_keeps_the_error_on_the_span_and_returns_it(spans):
    pinged.connect(failing, dispatch_uid="tests.failing")
    try:
        with spans.tracer.start_as_current_span("test"):
            [(_, error)] = pinged.send_robust(sender=User)
    finally:
        pinged.disconnect(dispatch_uid="tests.failing")

    assert isinstance(error, Boom)
    span = spans.named("signal signal_tools.tests.test_tracing.failing")
    assert span.status.status_code is StatusCode.ERROR


def test_no_address_in_any_span_of_a_signup(spans, signup):
    with spans.tracer.start_as_current_span("test"):
        response = signup()
    assert response.status_code == 302

    assert len(spans.get_finished_spans()) > 3
    for span in spans.get_finished_spans():
        values = [*span.attributes.values(), span.name]
        values += [v for event in span.events for v in event.attributes.values()]
        assert not [v for v in values if "@" in str(v)], span.name
