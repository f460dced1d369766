"""after_response(): work that waits until the response is sent, or runs at once."""

import logging

import pytest
from django.db import connections

from ..after_response import after_response, collect_after_response, run_after_response

# The receivers are called as request_started and request_finished call them
# (the live-server tests of notifications go through the real signals); sending
# the signals here would also run Django's other receivers. run_after_response
# closes old connections, as the end of a request does: the tests that call it
# get the database, outside a test transaction (which a close would break).


def test_outside_a_request_the_work_runs_at_once():
    done = []

    after_response(lambda: done.append("sent"))

    assert done == ["sent"]


@pytest.mark.django_db(transaction=True)
def test_in_a_request_the_work_waits_for_request_finished():
    done = []
    collect_after_response(sender=None, environ={})
    try:
        after_response(lambda: done.append("first"))
        after_response(lambda: done.append("second"))
        assert done == []
    finally:
        run_after_response(sender=None)

    assert done == ["first", "second"]
    # The request is over: what comes next runs at once again.
    after_response(lambda: done.append("later"))
    assert done == ["first", "second", "later"]


@pytest.mark.django_db(transaction=True)
def test_a_failing_piece_is_logged_and_the_rest_still_runs(caplog):
    done = []

    def fail():
        raise ConnectionRefusedError("mail server is down")

    collect_after_response(sender=None, environ={})
    after_response(fail)
    after_response(lambda: done.append("second"))
    with caplog.at_level(logging.ERROR):
        run_after_response(sender=None)

    assert done == ["second"]
    assert "Work after the response failed" in caplog.text
    assert "mail server is down" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_the_connection_the_work_opened_is_closed_after_it(tmp_path, caplog):
    """request_finished's close_old_connections may have run before: the work closes its own.

    A database of its own (a file: Django never closes an in-memory SQLite
    test database), with CONN_MAX_AGE 0 as in local settings.
    """
    probe = connections.configure_settings(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "db"}}
    )["default"]
    connections.settings["after_response_probe"] = probe
    try:
        collect_after_response(sender=None, environ={})
        # connect(): the test case only lets its own databases ensure_connection().
        after_response(connections["after_response_probe"].connect)
        with caplog.at_level(logging.ERROR):
            run_after_response(sender=None)

        assert caplog.text == ""  # the work did open the connection
        assert connections["after_response_probe"].connection is None
    finally:
        connections["after_response_probe"].close()
        del connections["after_response_probe"]
        del connections.settings["after_response_probe"]
