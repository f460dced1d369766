from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.db.models import signals
from factory.django import mute_signals

from {{ cookiecutter.project_slug }}.signal_tools import testing
from {{ cookiecutter.project_slug }}.users.tests import factories


@pytest.fixture
def user(db):
    return factories.UserFactory()


@pytest.fixture
def outbox():
    """The emails sent during the test (Django's locmem backend)."""
    mail.outbox.clear()
    return mail.outbox


@pytest.fixture
def signup(client):
    """Sign ada up through the signup page: signup(**headers) returns the response."""

    def post(**headers):
        return client.post("/accounts/signup/", factories.signup_data(), **headers)

    return post


@pytest.fixture
def muted_signals():
    """Mute the model signals for the whole test: rows come with no side effects.

    No profile, no welcome notification, no audit entry: for a test that needs
    bare rows. To mute one signal for a few lines instead:

        with factory.django.mute_signals(post_save):
            user = UserFactory()
    """
    muted = (
        signals.pre_save,
        signals.post_save,
        signals.pre_delete,
        signals.post_delete,
        signals.m2m_changed,
    )
    with mute_signals(*muted):
        yield


@pytest.fixture
def captured_receivers() -> Iterator[list[testing.ReceiverCall]]:
    """Every signal receiver call of the test, in call order (see signal_tools/testing.py).

        def test_signup(captured_receivers):
            User.objects.create_user("ada")
            assert "users.signals.create_profile" in [c.name for c in captured_receivers]

    To record a few lines only, use `with capture_receivers() as calls:`.
    """
    with testing.capture_receivers() as calls:
        yield calls


class RolledBack(Exception):
    """Raised by the `rollback` fixture to roll its transaction back."""


@pytest.fixture
def rollback():
    """Run a change in a transaction that then fails: rollback(change).

    As when a later step of the same request raises. Whatever the change's
    receivers wrote is rolled back with it, and their on_commit work dropped.
    """

    def run(change):
        try:
            with transaction.atomic():
                change()
                raise RolledBack
        except RolledBack:
            pass

    return run


@pytest.fixture
def spans() -> Iterator[Any]:
    """Tracing on for the test (docs/tracing.md): its finished spans, in memory.

        def test_signup(spans):
            with spans.tracer.start_as_current_span("test"):
                User.objects.create_user("ada")
            assert "post_save users.signals.create_profile" in spans.names()

    Receivers get spans inside a trace only: start one, as the request's
    span does in production. Imported here, not at the top: with tracing
    off the project imports no OpenTelemetry module, and the suite checks it.
    """
    from {{ cookiecutter.project_slug }}.signal_tools import tracing
    from {{ cookiecutter.project_slug }}.signal_tools.tests.spans import (  # any slug's length
        exporter,
    )

    recorded = exporter()
    recorded.clear()
    tracing.install()
    try:
        yield recorded
    finally:
        tracing.uninstall()
        recorded.clear()
