"""dispatch.py: watchers of receiver calls, added and removed in any order."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.dispatch import Signal

from .. import dispatch

pinged = Signal()


def listener(sender: Any, **kwargs: Any) -> str:
    return "pong"


async def async_listener(sender: Any, **kwargs: Any) -> str:
    await asyncio.sleep(0)
    return "async pong"


def logging_watcher(log: list[str], name: str) -> dispatch.Watcher:
    """A watcher that logs "<name> in" and "<name> out" around every call."""

    @contextmanager
    def around() -> Iterator[None]:
        log.append(f"{name} in")
        yield
        log.append(f"{name} out")

    return lambda signal, sender, receiver: around


@pytest.fixture
def connected() -> Iterator[None]:
    pinged.connect(listener, dispatch_uid="tests.listener")
    pinged.connect(async_listener, dispatch_uid="tests.async_listener")
    yield
    pinged.disconnect(dispatch_uid="tests.listener")
    pinged.disconnect(dispatch_uid="tests.async_listener")


@pytest.mark.parametrize("first_off", ["outer", "inner"])
def test_watchers_nest_and_come_off_in_any_order(connected: None, first_off: str):
    original = Signal._live_receivers
    log: list[str] = []
    watchers = {name: logging_watcher(log, name) for name in ("outer", "inner")}
    dispatch.add(watchers["outer"])
    dispatch.add(watchers["inner"])
    try:
        responses = pinged.send(sender=None)
        # Sync and async receivers alike, each wrapped once for both watchers.
        assert [response for _, response in responses] == ["pong", "async pong"]
        assert log == ["outer in", "inner in", "inner out", "outer out"] * 2
        # One patched method, and one wrapper around each receiver.
        assert Signal._live_receivers is dispatch.live_receivers
        [wrapped], [async_wrapped] = Signal._live_receivers(pinged, None)
        assert vars(wrapped)["__wrapped__"] is listener
        assert vars(async_wrapped)["__wrapped__"] is async_listener

        dispatch.remove(watchers.pop(first_off))
        log.clear()
        asyncio.run(pinged.asend(sender=None))
        [left] = watchers
        assert log == [f"{left} in", f"{left} out"] * 2
    finally:
        for watcher in watchers.values():
            dispatch.remove(watcher)

    assert Signal._live_receivers is original
    log.clear()
    pinged.send(sender=None)
    assert log == []


def test_a_receiver_no_watcher_wants_is_called_as_it_is(connected: None):
    with dispatch.watching(lambda signal, sender, receiver: None):
        sync_receivers, async_receivers = Signal._live_receivers(pinged, None)

    assert listener in sync_receivers
    assert async_listener in async_receivers


def test_an_error_goes_through_the_watchers_to_the_sender():
    def failing(sender: Any, **kwargs: Any) -> None:
        raise ZeroDivisionError

    seen: list[BaseException] = []

    @contextmanager
    def around() -> Iterator[None]:
        try:
            yield
        except ZeroDivisionError as error:
            seen.append(error)
            raise

    pinged.connect(failing, dispatch_uid="tests.failing")
    try:
        with dispatch.watching(lambda signal, sender, receiver: around):
            [(_, response)] = pinged.send_robust(sender=None)
    finally:
        pinged.disconnect(dispatch_uid="tests.failing")

    assert isinstance(response, ZeroDivisionError)
    assert seen == [response]
