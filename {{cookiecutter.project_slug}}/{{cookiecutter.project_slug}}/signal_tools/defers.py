"""@defers: the marker the project's receivers carry to say where their work goes.

`manage.py signals` reads the marker, and docs/signals.md shows it in the
"defers" column. Import it as `from ..signal_tools.defers import defers`.
"""

from collections.abc import Callable

COMMIT = "commit"
TASK = "task"
RESPONSE = "response"


def defers[F: Callable[..., object]](*where: str) -> Callable[[F], F]:
    """Mark a receiver that hands its work on: "commit" (transaction.on_commit), "task" (a worker), "response" (after it is sent).

    A label for readers and for `manage.py signals`; it changes nothing at run
    time. Put it under `@receiver(...)`:

        @receiver(post_save, sender="shop.Order", dispatch_uid="shop.send_receipt")
        @defers("commit")
        def send_receipt(sender, instance, created, raw, **kwargs): ...
    """
    unknown = set(where) - {COMMIT, TASK, RESPONSE}
    if not where or unknown:
        raise ValueError(
            f"defers() takes {COMMIT!r}, {TASK!r} and/or {RESPONSE!r}, not {where!r}"
        )

    def mark(receiver: F) -> F:
        # An attribute on the function object, which manage.py signals reads.
        receiver.defers = where  # type: ignore[attr-defined]
        return receiver

    return mark
