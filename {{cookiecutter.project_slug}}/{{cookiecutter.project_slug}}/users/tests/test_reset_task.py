"""The reset page looks nothing up: a task on the worker does, whatever the address.

Had the web process looked the address up, even after the response, the
moment it closes the connection would tell whether the address has an
account. Here the page only queues the task (captured, not run, by the
`queued` fixture), and the POST runs no query on the users table; the task,
run afterwards as a worker would, finds the account and the email goes out.
"""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .. import tasks
from ..models import User
from .factories import UserFactory

DONE = [("/accounts/password_reset/done/", 302)]
# The task itself, kept before the `queued` fixture puts a fake in its place.
TASK = tasks.request_password_resets


class QueueFake:
    """Stands for the task in tasks.py: records what the page queues."""

    def __init__(self, error=None):
        self.calls = []
        self.error = error

{%- if cookiecutter.background == "celery" %}

    def delay(self, *args, **kwargs):
{%- else %}

    def enqueue(self, *args, **kwargs):
{%- endif %}
        if self.error:
            raise self.error
        self.calls.append((args, kwargs))


@pytest.fixture
def queued(monkeypatch):
    """The calls queued for the lookup task; run(call) runs one as a worker would."""
    fake = QueueFake()
    monkeypatch.setattr(tasks, "request_password_resets", fake)
    return fake


def run(call):
    args, kwargs = call
{%- if cookiecutter.background == "celery" %}
    TASK(*args, **kwargs)  # a Celery task called runs its body here
{%- else %}
    TASK.call(*args, **kwargs)
{%- endif %}


def post_reset(client, email):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/accounts/password_reset/", {"email": email}, follow=True
        )
    users = [q["sql"] for q in queries if User._meta.db_table in q["sql"]]
    return response, users


@pytest.mark.django_db
@pytest.mark.parametrize("typed", ["ADA@example.com", "nobody@example.com"])
def test_the_page_queues_the_address_and_runs_no_query_on_users(
    client, queued, outbox, typed
):
    UserFactory(username="ada")
    outbox.clear()

    response, users = post_reset(client, typed)

    assert response.redirect_chain == DONE
    assert users == [], "the web request looked the address up"
    [(args, kwargs)] = queued.calls
    assert args == (typed,)
    assert set(kwargs) == {"domain", "use_https"}
    assert outbox == []


@pytest.mark.django_db
def test_the_task_looks_the_address_up_and_the_email_goes_out(
    client, queued, outbox, django_capture_on_commit_callbacks
):
    ada = UserFactory(username="ada")
    outbox.clear()
    post_reset(client, "ADA@example.com")
    post_reset(client, "nobody@example.com")
    known, unknown = queued.calls

    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        run(known)
        run(unknown)

    assert any(User._meta.db_table in q["sql"] for q in queries)
    [email] = outbox
    assert email.to == [ada.email]


@pytest.mark.django_db
def test_a_task_that_cannot_be_queued_is_logged_without_the_address(
    client, monkeypatch, outbox, caplog
):
    UserFactory(username="ada")
    monkeypatch.setattr(
        tasks, "request_password_resets", QueueFake(ConnectionError("down"))
    )

    with caplog.at_level(logging.ERROR, logger=tasks.__name__):
        response, users = post_reset(client, "ada@example.com")

    assert response.redirect_chain == DONE
    assert users == []
    assert "not queued" in caplog.text
    assert "ada@example.com" not in caplog.text
