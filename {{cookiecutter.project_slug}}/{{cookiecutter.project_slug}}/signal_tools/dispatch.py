"""Watch receiver calls: the one module that replaces a private method of Django's.

Every send(), send_robust(), asend() and asend_robust() of Django 6.x asks
Signal._live_receivers(sender) for the receivers to call, as (sync
receivers, async receivers). A tool that wants to run code around receiver
calls (the slow-receiver guard, capture_receivers()) adds a watcher here:

    watcher(signal, sender, receiver) -> around, or None to leave it alone

where `around()` makes a context manager that each call of that receiver
runs inside. While at least one watcher is added, one replacement of the
method hands out each receiver that some watcher wants, wrapped once with
all their context managers (in the order the watchers were added); with
none, Django's own method is back. So watchers nest in any order, are
removed in any order, and each sees the receiver itself, never another
watcher's wrapper. The tests of the guard and of capture_receivers() fail
first if a Django upgrade changes that method.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from inspect import iscoroutinefunction
from typing import Any

from django.dispatch import Signal

Receiver = Callable[..., Any]
Around = Callable[[], AbstractContextManager[object]]
Watcher = Callable[[Signal, Any, Receiver], Around | None]

original_live_receivers = Signal._live_receivers

# The watchers added and not yet removed, in the order they were added.
watchers: list[Watcher] = []


def add(watcher: Watcher) -> None:
    """Run `watcher`'s context managers around the receiver calls from now on."""
    if not watchers:
        Signal._live_receivers = live_receivers  # type: ignore[method-assign,assignment]
    watchers.append(watcher)


def remove(watcher: Watcher) -> None:
    """Stop watching with `watcher`; with no watcher left, Django's method is back."""
    watchers.remove(watcher)
    if not watchers:
        Signal._live_receivers = original_live_receivers  # type: ignore[method-assign]


@contextmanager
def watching(watcher: Watcher) -> Iterator[None]:
    """add(watcher) for the duration of a block."""
    add(watcher)
    try:
        yield
    finally:
        remove(watcher)


def live_receivers(
    signal: Signal, sender: Any
) -> tuple[list[Receiver], list[Receiver]]:
    """Django's receivers, each wrapped in what the watchers run around it."""
    sync_receivers, async_receivers = original_live_receivers(signal, sender)
    return (
        [watched(signal, sender, r) for r in sync_receivers],
        [watched(signal, sender, r) for r in async_receivers],
    )


def watched(signal: Signal, sender: Any, receiver: Receiver) -> Receiver:
    """The receiver itself if no watcher wants it, else one wrapper for all of them."""
    arounds = [
        around
        for watcher in list(watchers)
        if (around := watcher(signal, sender, receiver)) is not None
    ]
    if not arounds:
        return receiver

    def enter(stack: ExitStack) -> None:
        for around in arounds:
            stack.enter_context(around())

    if iscoroutinefunction(receiver):

        @functools.wraps(receiver)
        async def watched_async(*args: Any, **kwargs: Any) -> Any:
            with ExitStack() as stack:
                enter(stack)
                return await receiver(*args, **kwargs)

        return watched_async

    @functools.wraps(receiver)
    def watched_sync(*args: Any, **kwargs: Any) -> Any:
        with ExitStack() as stack:
            enter(stack)
            return receiver(*args, **kwargs)

    return watched_sync
