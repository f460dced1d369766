"""Which receivers ran? `capture_receivers()` records every receiver call while it is active.

    with capture_receivers() as calls:
        User.objects.create_user("ada")
    assert [c.name for c in calls if c.project] == [...]

Each call is recorded when it starts (so in call order, a receiver's nested
calls right after it) with the signal's name, the sender, the receiver's
dotted name, how long it took, the SQL it ran (nested receivers' included),
and the exception it raised, if any. Django's receivers and third-party ones
are recorded too; `project` tells the project's own apart.

How: while active, Signal._live_receivers (the private method of Django 6.x
that send(), send_robust(), asend() and asend_robust() all ask for the
receivers to call) hands out each receiver wrapped in a recorder. Nothing else
changes: the same receivers run in the same order with the same arguments.
The slow-receiver guard wraps the same method; the two nest, as long as each
is undone in the reverse order it was installed.

What it cannot see: the queries of an async receiver that go through
sync_to_async (the async ORM) run in another thread and are not counted;
work a receiver leaves to transaction.on_commit runs after it returns and is
not counted either.
"""

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from inspect import iscoroutinefunction
from typing import Any

from django.db import connections
from django.dispatch import Signal

from . import inventory

Receiver = Callable[..., Any]

# How many recorded receivers are running around the current one.
depth = ContextVar("capture_receivers_depth", default=0)


@dataclass
class ReceiverCall:
    signal: str
    sender: str
    receiver: str
    project: bool
    depth: int
    duration: float = 0.0  # seconds
    queries: list[str] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def name(self) -> str:
        """The receiver's name without the project package ("users.signals.create_profile")."""
        return self.receiver.removeprefix(inventory.PROJECT_PACKAGE + ".")

    @property
    def writes(self) -> list[str]:
        """The INSERT, UPDATE and DELETE statements among its queries, as verbs."""
        verbs = (sql.split(None, 1)[0].upper() for sql in self.queries if sql.strip())
        return [verb for verb in verbs if verb in {"INSERT", "UPDATE", "DELETE"}]


@contextmanager
def capture_receivers() -> Iterator[list[ReceiverCall]]:
    """Record each signal receiver call while the block runs, in call order."""
    calls: list[ReceiverCall] = []
    names = {id(signal): name for name, signal in inventory.signals()}
    previous = Signal._live_receivers

    def live_receivers(
        signal: Signal, sender: Any
    ) -> tuple[list[Receiver], list[Receiver]]:
        sync_receivers, async_receivers = previous(signal, sender)
        name = names.get(id(signal)) or repr(signal)
        record = functools.partial(recorded, calls, name, sender)
        return [record(r) for r in sync_receivers], [record(r) for r in async_receivers]

    Signal._live_receivers = live_receivers  # type: ignore[method-assign,assignment]
    try:
        yield calls
    finally:
        Signal._live_receivers = previous  # type: ignore[method-assign]


def recorded(
    calls: list[ReceiverCall], signal: str, sender: Any, receiver: Receiver
) -> Receiver:
    """The receiver, wrapped so that each call is appended to `calls`."""
    target = inventory.unwrap(receiver)

    def start() -> ReceiverCall:
        call = ReceiverCall(
            signal=signal,
            sender=inventory.describe_sender(sender) if sender is not None else "any",
            receiver=inventory.dotted_name(target),
            project=inventory.is_project(inventory.module_of(target)),
            depth=depth.get(),
        )
        calls.append(call)
        return call

    if iscoroutinefunction(receiver):

        @functools.wraps(receiver)
        async def recorded_async(*args: Any, **kwargs: Any) -> Any:
            call = start()
            token = depth.set(call.depth + 1)
            began = time.perf_counter()
            try:
                with recording_queries(call):
                    return await receiver(*args, **kwargs)
            except BaseException as error:
                call.error = error
                raise
            finally:
                call.duration = time.perf_counter() - began
                depth.reset(token)

        return recorded_async

    @functools.wraps(receiver)
    def recorded_sync(*args: Any, **kwargs: Any) -> Any:
        call = start()
        token = depth.set(call.depth + 1)
        began = time.perf_counter()
        try:
            with recording_queries(call):
                return receiver(*args, **kwargs)
        except BaseException as error:
            call.error = error
            raise
        finally:
            call.duration = time.perf_counter() - began
            depth.reset(token)

    return recorded_sync


@contextmanager
def recording_queries(call: ReceiverCall) -> Iterator[None]:
    """Append the SQL run on this thread's connections to call.queries.

    An execute wrapper, not CaptureQueriesContext: it needs no DEBUG cursor,
    and the wrappers of nested receivers stack, so an outer receiver's list
    holds what its nested receivers ran too.
    """

    def wrapper(
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        call.queries.append(sql)
        return execute(sql, params, many, context)

    with ExitStack() as stack:
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(wrapper))
        yield
