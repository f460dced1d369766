"""The slow-receiver guard: warn about the project's receivers that slow a request down.

Receivers run inside the request that sends their signal. With the guard on
(SIGNALS_SLOW_RECEIVER_GUARD: on by default in local settings, opt-in in
production through DJANGO_SIGNALS_SLOW_RECEIVER_GUARD), each call of a
project receiver during a request is timed, and at request_finished one
warning is logged per receiver whose total went over
SIGNALS_SLOW_RECEIVER_MS (default 100). The work that waits for the
response (core/after_response.py) is left out: nobody waits for it.

When the guard is off, install() is never called: no receiver is connected
and nothing is wrapped, so it costs nothing.

Timing works by wrapping Signal._live_receivers, the private method of
Django 6.x that every send() asks for the receivers to call. Only the
project's receivers are wrapped; the tests will tell if an upgrade of Django
changes that method.
"""

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from inspect import iscoroutinefunction
from typing import Any, TypedDict

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.dispatch import Signal

from . import after_response, inventory

logger = logging.getLogger(__name__)

ADVICE = (
    "move the work to a task so the request does not wait for it; "
    "transaction.on_commit alone only keeps it from running for a rollback"
)

Receiver = Callable[..., Any]


class RequestTimings(TypedDict):
    path: str
    timings: defaultdict[str, list[float]]  # receiver name: [seconds, calls]


# The current request: {"path": ..., "timings": {receiver name: [seconds, calls]}}.
current_request: ContextVar[RequestTimings | None] = ContextVar(
    "slow_receivers_request", default=None
)

original_live_receivers = Signal._live_receivers


def install() -> None:
    """Start timing the project's receivers during requests (idempotent)."""
    # Replacing Django's method is the point of the guard (see above).
    Signal._live_receivers = timed_live_receivers  # type: ignore[method-assign,assignment]
    request_started.connect(start_timing, dispatch_uid="core.slow_receivers.start")
    request_finished.connect(
        report_slow_receivers, dispatch_uid="core.slow_receivers.report"
    )


def uninstall() -> None:
    """Undo install(): Django's signals are as they were."""
    Signal._live_receivers = original_live_receivers  # type: ignore[method-assign]
    request_started.disconnect(dispatch_uid="core.slow_receivers.start")
    request_finished.disconnect(dispatch_uid="core.slow_receivers.report")
    current_request.set(None)


def timed_live_receivers(
    signal: Signal, sender: object
) -> tuple[list[Receiver], list[Receiver]]:
    sync_receivers, async_receivers = original_live_receivers(signal, sender)
    return [timed(r) for r in sync_receivers], [timed(r) for r in async_receivers]


def timed(receiver: Receiver) -> Receiver:
    """The receiver itself, or for one of the project's, a wrapper that times it."""
    target = inventory.unwrap(receiver)
    if target is after_response.run_after_response:
        return untimed(receiver)
    if not inventory.is_project(inventory.module_of(target)):
        return receiver
    name = inventory.dotted_name(target)

    if iscoroutinefunction(receiver):

        @functools.wraps(receiver)
        async def timed_receiver(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await receiver(*args, **kwargs)
            finally:
                record(name, time.perf_counter() - start)

    else:

        @functools.wraps(receiver)
        def timed_receiver(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return receiver(*args, **kwargs)
            finally:
                record(name, time.perf_counter() - start)

    return timed_receiver


def untimed(receiver: Receiver) -> Receiver:
    """A wrapper that times nothing while it runs: for the work after the response.

    run_after_response runs at request_finished, once the server has sent
    the response: nobody waits for that work, nor for the receivers it
    calls. Whichever runs first at request_finished, it or the report, this
    leaves it out.
    """

    @functools.wraps(receiver)
    def after_the_response(*args: Any, **kwargs: Any) -> Any:
        request = current_request.get()
        current_request.set(None)
        try:
            return receiver(*args, **kwargs)
        finally:
            current_request.set(request)

    return after_the_response


def record(name: str, seconds: float) -> None:
    request = current_request.get()
    if request is not None:  # outside a request nobody waits: nothing to report
        timing = request["timings"][name]
        timing[0] += seconds
        timing[1] += 1


def start_timing(
    sender: type,
    environ: dict[str, Any] | None = None,
    scope: dict[str, Any] | None = None,
    **kwargs: object,
) -> None:
    """Start timing the project's receivers for this request (slow-receiver guard)."""
    if environ is not None:
        path = f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"
    elif scope is not None:
        path = f"{scope.get('method', '')} {scope.get('path', '')}"
    else:
        path = "?"
    current_request.set({"path": path, "timings": defaultdict(lambda: [0.0, 0])})


def report_slow_receivers(sender: type, **kwargs: object) -> None:
    """Log one warning per project receiver that took longer than SIGNALS_SLOW_RECEIVER_MS."""
    request = current_request.get()
    current_request.set(None)
    if request is None:
        return
    budget_ms = settings.SIGNALS_SLOW_RECEIVER_MS
    for name, (seconds, calls) in request["timings"].items():
        if seconds * 1000 > budget_ms:
            logger.warning(
                "Slow signal receiver %s took %d ms in %d call(s) during %s "
                "(budget %d ms): %s.",
                name,
                round(seconds * 1000),
                calls,
                request["path"],
                budget_ms,
                ADVICE,
            )
