import logging
import re

import pytest
{%- if cookiecutter.background == "django-tasks" %}
from django.tasks import task
{%- endif %}
from django.test import Client

from ..log_context import ContextFilter

NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.mark.django_db
def test_each_response_carries_a_new_request_id(client: Client) -> None:
    first = client.get("/healthz/")["X-Request-ID"]
    second = client.get("/healthz/")["X-Request-ID"]

    assert NEW_ID.fullmatch(first)
    assert NEW_ID.fullmatch(second)
    assert first != second


@pytest.mark.django_db
def test_the_proxys_request_id_is_kept(client: Client) -> None:
    response = client.get("/healthz/", headers={"X-Request-ID": "edge-42.a:b"})

    assert response["X-Request-ID"] == "edge-42.a:b"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    ['x", "level": "CRITICAL', "line\nbreak", "a" * 129, ""],
    ids=["quotes", "newline", "too-long", "empty"],
)
def test_a_request_id_that_is_not_a_plain_token_is_replaced(
    client: Client, forged: str
) -> None:
    response = client.get("/healthz/", headers={"X-Request-ID": forged})

    assert NEW_ID.fullmatch(response["X-Request-ID"])


@pytest.mark.django_db
def test_lines_logged_during_a_request_carry_its_id(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(ContextFilter())

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/no-such-page/")

    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert response.status_code == 404
    assert vars(record)["request_id"] == response["X-Request-ID"]
{%- if cookiecutter.background == "django-tasks" %}


@task()
def log_a_line() -> None:
    """A task that logs one line, for the test below."""
    logging.getLogger("django.tasks").warning("inside the task")


def test_lines_logged_by_a_task_carry_its_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(ContextFilter())

    with caplog.at_level(logging.INFO, logger="django.tasks"):
        result = log_a_line.enqueue()  # run at once: ImmediateBackend in the tests
        logging.getLogger("django.tasks").warning("after the task")

    ids = {r.getMessage(): vars(r).get("task_id") for r in caplog.records}
    finished = f"Task id={result.id} path={log_a_line.module_path} state=SUCCESSFUL"
    assert ids["inside the task"] == result.id
    assert ids[finished] == result.id  # Django's own line, logged at task_finished
    assert ids["after the task"] is None
{%- endif %}
