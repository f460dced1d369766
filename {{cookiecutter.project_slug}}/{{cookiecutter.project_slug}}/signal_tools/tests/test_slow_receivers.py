"""The slow-receiver guard: one warning per slow project receiver, at the end of the request."""

import asyncio
import logging
import os
import subprocess
import sys
import time

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.mail.backends import locmem
from django.core.signals import request_started
from django.db.models.signals import post_save
from django.dispatch import Signal

from ...web.after_response import after_response
from .. import dispatch, slow_receivers
from ..inventory import receivers_of

HERE = __name__


def slow_receiver(sender, **kwargs):
    """Call a slow service inline: what the guard is there to catch."""
    time.sleep(0.06)


async def slow_async_receiver(sender, **kwargs):
    """The same, async."""
    await asyncio.sleep(0.06)


@pytest.fixture
def guard(settings):
    settings.SIGNALS_SLOW_RECEIVER_MS = 40
    slow_receivers.install()
    yield
    slow_receivers.uninstall()


@pytest.fixture
def connect():
    """Connect receivers for one test: connect(signal, receiver, sender=None)."""
    connected = []

    def connect(signal, receiver, sender=None):
        signal.connect(receiver, sender=sender)
        connected.append((signal, receiver, sender))

    yield connect
    for signal, receiver, sender in connected:
        signal.disconnect(receiver, sender=sender)


@pytest.fixture
def warnings(caplog):
    """The guard's warnings about this module's receivers.

    Only those: on a loaded machine the project's own receivers that run in
    the same requests might go over the tests' small budget too.
    """
    caplog.set_level(logging.WARNING, logger=slow_receivers.logger.name)

    def messages():
        return [
            record.getMessage()
            for record in caplog.records
            if record.name == slow_receivers.logger.name
            and f" {HERE}." in record.getMessage()
        ]

    return messages


@pytest.mark.django_db
def test_a_slow_receiver_gets_one_warning_at_the_end_of_the_request(
    client, guard, connect, warnings
):
    connect(request_started, slow_receiver)

    client.get("/healthz/")

    [message] = warnings()
    assert message.startswith(f"Slow signal receiver {HERE}.slow_receiver took ")
    assert "in 1 call(s) during GET /healthz/ (budget 40 ms)" in message
    assert "move the work to a task so the request does not wait for it" in message


def test_a_slow_model_receiver_called_twice_gets_one_warning(
    admin_client, guard, connect, warnings
):
    connect(request_started, slow_receiver)
    connect(post_save, slow_receiver, sender=settings.AUTH_USER_MODEL)

    response = admin_client.post(
        "/admin/users/user/add/",
        {"username": "grace", "usable_password": "false"},
    )

    assert response.status_code == 302
    [message] = warnings()
    assert f"{HERE}.slow_receiver" in message
    assert "in 2 call(s) during POST /admin/users/user/add/" in message


@pytest.mark.django_db
def test_a_slow_async_receiver_is_timed_too(client, guard, connect, warnings):
    connect(request_started, slow_async_receiver)

    client.get("/healthz/")

    [message] = warnings()
    assert f"{HERE}.slow_async_receiver" in message


@pytest.mark.django_db
def test_a_receiver_within_its_budget_gets_no_warning(
    client, guard, connect, warnings, settings
):
    # A budget far above the receiver's 60 ms: no upper bound on how fast a
    # loaded machine runs it, so the test cannot fail from load alone.
    settings.SIGNALS_SLOW_RECEIVER_MS = 60_000
    connect(request_started, slow_receiver)

    client.get("/healthz/")

    assert warnings() == []


def test_outside_a_request_nothing_is_reported(guard, connect, warnings):
    signal = Signal()
    connect(signal, slow_receiver)

    signal.send(sender=None)

    assert warnings() == []


@pytest.mark.django_db
def test_off_the_guard_wraps_nothing_and_reports_nothing(client, connect, warnings):
    connect(request_started, slow_receiver)

    client.get("/healthz/")

    assert warnings() == []
    assert Signal._live_receivers is dispatch.original_live_receivers
    receivers = [r.receiver for r in receivers_of("request_started", request_started)]
    assert not [name for name in receivers if ".signal_tools.slow_receivers." in name]


@pytest.mark.django_db
def test_the_guard_times_asgi_requests_too(async_client, guard, connect, warnings):
    connect(request_started, slow_receiver)

    response = async_to_sync(async_client.get)("/healthz/")

    assert response.status_code == 200
    [message] = warnings()
    assert "during GET /healthz/" in message


@pytest.mark.parametrize(
    ("settings_module", "environ", "on"),
    [
        ("config.settings.local", {}, True),
        ("config.settings.production", {}, False),
        (
            "config.settings.production",
            {"DJANGO_SIGNALS_SLOW_RECEIVER_GUARD": "1"},
            True,
        ),
    ],
    ids=["local", "production", "production-opted-in"],
)
def test_the_guard_is_on_in_local_settings_and_opt_in_in_production(
    settings_module, environ, on
):
    keep = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    production = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "DJANGO_SITE_URL": "https://example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "signals", "--signal", "request_finished"],
        cwd=settings.BASE_DIR,
        env={
            **keep,
            **production,
            **environ,
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DATABASE_URL": "sqlite://:memory:",
        },
        capture_output=True,
        text=True,
        check=True,
    )

    assert ("signal_tools.slow_receivers.report_slow_receivers" in result.stdout) is on


@pytest.mark.django_db
def test_work_after_the_response_is_not_reported_but_slow_receivers_still_are(
    client, guard, connect, warnings, caplog
):
    """Slow work (and the receivers it calls) after the response: nobody waits, no warning."""
    sent_after_the_response = Signal()
    connect(sent_after_the_response, slow_receiver)

    def slow_work() -> None:
        time.sleep(0.06)  # a slow mail server, after the response
        sent_after_the_response.send(sender=None)

    def defer_slow_work(sender, **kwargs):
        after_response(slow_work)

    connect(request_started, defer_slow_work)
    connect(request_started, slow_receiver)  # in the request: warns

    client.get("/healthz/")

    # Counted once: the call from the work after the response is left out.
    [message] = warnings()
    assert "in 1 call(s) during GET /healthz/" in message
    assert "run_after_response" not in caplog.text


class SlowEmailBackend(locmem.EmailBackend):
    """Django's locmem backend behind a slow mail server."""

    def send_messages(self, email_messages):
        time.sleep(0.06)
        return super().send_messages(email_messages)
{%- if cookiecutter.background == "none" %}


# Committed for real, so that the welcome goes out after the response.
@pytest.mark.django_db(transaction=True)
def test_a_signup_whose_welcome_is_slow_after_the_response_gets_no_warning(
    signup, guard, settings, caplog
):
    from django.core import mail  # imported here: only this render sends email here

    settings.MAILERS = {"default": {"BACKEND": f"{HERE}.SlowEmailBackend"}}
    caplog.set_level(logging.WARNING, logger=slow_receivers.logger.name)

    response = signup()

    assert response.status_code == 302
    assert [email.to for email in mail.outbox] == [["ada@example.com"]]
    assert "run_after_response" not in caplog.text
{%- endif %}
