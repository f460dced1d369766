"""The slow-receiver guard: warn about the project's receivers that slow a request down.

Receivers run inside the request that sends their signal. With the guard on
(SIGNALS_SLOW_RECEIVER_GUARD: on by default in local settings, opt-in in
production through DJANGO_SIGNALS_SLOW_RECEIVER_GUARD), each call of a
project receiver during a request is timed, and at request_finished one
warning is logged per receiver whose total went over
SIGNALS_SLOW_RECEIVER_MS (default 100). The work that waits for the
response (the receivers named in SIGNAL_TOOLS_AFTER_RESPONSE_RECEIVERS) is
left out: nobody waits for it.

When the guard is off, install() is never called: no receiver is connected
and nothing is wrapped, so it costs nothing.

Timing works through dispatch.py, which wraps the receivers that send()
calls; only the project's receivers are timed.
"""

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypedDict

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.dispatch import Signal

from . import dispatch, inventory

logger = logging.getLogger(__name__)

ADVICE = (
    "move the work to a task so the request does not wait for it; "
    "transaction.on_commit alone only keeps it from running for a rollback"
)


class RequestTimings(TypedDict):
    path: str
    timings: defaultdict[str, list[float]]  # receiver name: [seconds, calls]


# The current request: {"path": ..., "timings": {receiver name: [seconds, calls]}}.
current_request: ContextVar[RequestTimings | None] = ContextVar(
    "slow_receivers_request", default=None
)


def install() -> None:
    """Start timing the project's receivers during requests (idempotent)."""
    if watch not in dispatch.watchers:
        dispatch.add(watch)
    request_started.connect(
        start_timing, dispatch_uid="signal_tools.slow_receivers.start"
    )
    request_finished.connect(
        report_slow_receivers, dispatch_uid="signal_tools.slow_receivers.report"
    )


def uninstall() -> None:
    """Undo install(): Django's signals are as they were."""
    if watch in dispatch.watchers:
        dispatch.remove(watch)
    request_started.disconnect(dispatch_uid="signal_tools.slow_receivers.start")
    request_finished.disconnect(dispatch_uid="signal_tools.slow_receivers.report")
    current_request.set(None)


def watch(
    signal: Signal, sender: object, receiver: dispatch.Receiver
) -> dispatch.Around | None:
    """Time the project's receivers; leave out the work after the response."""
    target = inventory.unwrap(receiver)
    if not inventory.is_project(inventory.module_of(target)):
        return None
    name = inventory.dotted_name(target)
    if name in settings.SIGNAL_TOOLS_AFTER_RESPONSE_RECEIVERS:
        return outside_the_request
    return functools.partial(timing, name)


@contextmanager
def timing(name: str) -> Iterator[None]:
    """Around one call of a project receiver: add its time to the request's."""
    start = time.perf_counter()
    try:
        yield
    finally:
        record(name, time.perf_counter() - start)


@contextmanager
def outside_the_request() -> Iterator[None]:
    """Around the work after the response: nothing is timed while it runs.

    A receiver of SIGNAL_TOOLS_AFTER_RESPONSE_RECEIVERS runs at
    request_finished, once the server has sent the response: nobody waits for
    that work, nor for the receivers it calls. Whichever runs first at
    request_finished, it or the report, this leaves it out.
    """
    request = current_request.get()
    current_request.set(None)
    try:
        yield
    finally:
        current_request.set(request)


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
