"""Which receivers ran? `capture_receivers()` records every receiver call while it is active.

    with capture_receivers() as calls:
        User.objects.create_user("ada")
    assert [c.name for c in calls if c.project] == [...]

Each call is recorded when it starts (so in call order, a receiver's nested
calls right after it) with the signal's name, the sender, the receiver's
dotted name, how long it took, the SQL it ran (nested receivers' included),
and the exception it raised, if any. Django's receivers and third-party ones
are recorded too; `project` tells the project's own apart.

How: while active, it watches every receiver call through dispatch.py,
which wraps each receiver in a recorder. Nothing else changes: the same
receivers run in the same order with the same arguments. The slow-receiver
guard watches through the same module: the two nest in any order.

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
from typing import Any

from django.db import connections
from django.dispatch import Signal

from . import dispatch, inventory

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
        return self.receiver.removeprefix(inventory.project_package() + ".")

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

    def watcher(
        signal: Signal, sender: Any, receiver: dispatch.Receiver
    ) -> dispatch.Around:
        name = names.get(id(signal)) or repr(signal)
        return functools.partial(recording, calls, name, sender, receiver)

    with dispatch.watching(watcher):
        yield calls


@contextmanager
def recording(
    calls: list[ReceiverCall], signal: str, sender: Any, receiver: dispatch.Receiver
) -> Iterator[None]:
    """Around one receiver call: append it to `calls`, with its time, SQL and error."""
    target = inventory.unwrap(receiver)
    call = ReceiverCall(
        signal=signal,
        sender=inventory.describe_sender(sender) if sender is not None else "any",
        receiver=inventory.dotted_name(target),
        project=inventory.is_project(inventory.module_of(target)),
        depth=depth.get(),
    )
    calls.append(call)
    token = depth.set(call.depth + 1)
    began = time.perf_counter()
    try:
        with recording_queries(call):
            yield
    except BaseException as error:
        call.error = error
        raise
    finally:
        call.duration = time.perf_counter() - began
        depth.reset(token)


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
