"""capture_receivers() and the captured_receivers fixture: what they record, and what they leave alone."""

import asyncio
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.dispatch import Signal
from django.test import RequestFactory

from ...users.models import Profile
from .. import dispatch, slow_receivers
from ..testing import ReceiverCall, capture_receivers

pytestmark = pytest.mark.django_db

User = get_user_model()

pinged = Signal()


class Boom(Exception):
    pass


def failing(sender: Any, **kwargs: Any) -> None:
    """Raises, as a broken receiver would."""
    raise Boom


async def async_listener(sender: Any, **kwargs: Any) -> str:
    """An async receiver."""
    await asyncio.sleep(0)
    return "pong"


def called(calls: list[ReceiverCall]) -> list[tuple[int, str, str, str]]:
    """The calls of the receivers of the shipped apps (newapp adds others)."""
    shipped = ("users.", "notifications.", "audit.")
    return [
        (c.depth, c.signal, c.sender, c.name)
        for c in calls
        if c.project and c.name.startswith(shipped)
    ]


def test_records_the_projects_receivers_in_call_order_with_nested_ones() -> None:
    with capture_receivers() as calls:
        User.objects.create_user("ada", email="ada@example.com")

    assert called(calls) == [
        (0, "pre_save", "users.User", "users.signals.unconfirm_new_email"),
        (0, "post_save", "users.User", "users.signals.create_profile"),
        # create_profile's Profile.objects.create() sends these:
        (1, "pre_save", "users.Profile", "users.signals.remember_old_avatar"),
        (1, "post_save", "users.Profile", "users.signals.remove_replaced_avatar"),
        (0, "post_save", "users.User", "notifications.signals.queue_welcome"),
        (0, "post_save", "users.User", "audit.signals.record_account_changes"),
    ]


def test_records_the_queries_each_receiver_ran_nested_ones_included() -> None:
    with capture_receivers() as calls:
        User.objects.create_user("ada", email="ada@example.com")

    by_name = {c.name: c for c in calls}
    profile = by_name["users.signals.create_profile"]
    assert profile.writes == ["INSERT"]
    assert Profile._meta.db_table in profile.queries[-1]
    assert by_name["users.signals.remember_old_avatar"].queries == []
    assert all(c.duration > 0 for c in calls)


def test_records_djangos_receivers_too() -> None:
    user = User.objects.create_user("ada")
    request = RequestFactory().get("/")

    with capture_receivers() as calls:
        user_logged_in.send(sender=User, request=request, user=user)

    # Third-party receivers (django-axes') are recorded as well.
    [last_login] = [
        c for c in calls if c.receiver == "django.contrib.auth.models.update_last_login"
    ]
    assert not last_login.project
    assert last_login.signal == "user_logged_in"
    assert last_login.writes == ["UPDATE"]


def test_records_an_error_and_lets_send_robust_handle_it() -> None:
    pinged.connect(failing, dispatch_uid="tests.failing")
    try:
        with capture_receivers() as calls:
            [(_, response)] = pinged.send_robust(sender=None)
    finally:
        pinged.disconnect(dispatch_uid="tests.failing")

    assert isinstance(response, Boom)
    [call] = calls
    assert call.signal == repr(pinged)  # a signal no app module names
    assert call.sender == "any"
    assert isinstance(call.error, Boom)


def test_records_async_receivers_sent_with_asend() -> None:
    pinged.connect(async_listener, dispatch_uid="tests.async_listener")
    try:
        with capture_receivers() as calls:
            [(_, response)] = asyncio.run(pinged.asend(sender=None))
    finally:
        pinged.disconnect(dispatch_uid="tests.async_listener")

    assert response == "pong"
    assert [c.name for c in calls] == ["signal_tools.tests.test_testing.async_listener"]


def test_leaves_signals_as_they_were_once_the_block_is_left() -> None:
    original = Signal._live_receivers

    with capture_receivers() as calls:
        assert Signal._live_receivers is not original
    User.objects.create_user("ada")

    assert calls == []
    assert Signal._live_receivers is original


def test_the_fixture_records_the_whole_test(
    captured_receivers: list[ReceiverCall],
) -> None:
    User.objects.create_user("ada")

    assert "users.signals.create_profile" in [c.name for c in captured_receivers]


ORDERS = [("guard", "capture"), ("capture", "guard")]


@pytest.mark.parametrize("on", ORDERS, ids=["guard-on-first", "capture-on-first"])
@pytest.mark.parametrize("off", ORDERS, ids=["guard-off-first", "capture-off-first"])
def test_nests_with_the_slow_receiver_guard_in_any_order(
    on: tuple[str, str], off: tuple[str, str]
) -> None:
    """Both watch through one patched method; either may start or stop first."""
    original = Signal._live_receivers
    capture = capture_receivers()
    calls: list[ReceiverCall] = []
    stop = {
        "guard": slow_receivers.uninstall,
        "capture": lambda: capture.__exit__(None, None, None),
    }
    stopped: list[str] = []
    try:
        for name in on:
            if name == "capture":
                calls = capture.__enter__()
            else:
                slow_receivers.install()
        # One patched method, however many watchers.
        assert Signal._live_receivers is dispatch.live_receivers
        User.objects.create_user("ada")
        stop[off[0]]()
        stopped.append(off[0])
        # The one still on keeps working.
        assert Signal._live_receivers is dispatch.live_receivers
        User.objects.create_user("grace")
    finally:
        for name in off:
            if name not in stopped:
                stop[name]()

    assert Signal._live_receivers is original
    profiles = [c for c in calls if c.name == "users.signals.create_profile"]
    # Named after the receiver, not after the guard's wrapper around it; the
    # second user's is recorded only while the capture was still on.
    assert len(profiles) == (2 if off[0] == "guard" else 1)
