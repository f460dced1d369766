"""The project's receivers decide, and leave reads and writes to services and selectors.

docs/architecture.md: writes live in the app's services.py, reads in the
selectors.py of the app that owns the data; neither lives in a receiver.
This test reads each receiver's own body with `ast`, as the checks do
(checks.py): it sees the queries written there, not those of the functions
it calls, which is the point.
"""

import ast
import inspect
import textwrap
from collections.abc import Callable

from django.utils.module_loading import import_string

from .. import inventory

# A manager, or a method call that runs a query on a queryset, a related
# manager or a model instance.
MANAGERS = {"objects", "_default_manager", "_base_manager"}
QUERIES = {
    "add",
    "aggregate",
    "all",
    "bulk_create",
    "bulk_update",
    "count",
    "clear",
    "create",
    "delete",
    "earliest",
    "exclude",
    "exists",
    "filter",
    "first",
    "get_or_create",
    "in_bulk",
    "iterator",
    "last",
    "latest",
    "raw",
    "refresh_from_db",
    "remove",
    "save",
    "select_for_update",
    "update",
    "update_or_create",
    "using",
    "values",
    "values_list",
}

# `get` and `set` are not in the list: dicts and context variables have them
# too. `Model.objects.get()` is found by its manager; a related manager's
# get() or set() is not.
# Same name, no query: django.db.connections (web.after_response closes them).
NOT_QUERIES = {"connections.all"}


def queries_written_in(function: Callable[..., object]) -> list[str]:
    """The ORM calls written in a function's body (its decorators left out)."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(function)))
    definition = ast.parse(source).body[0]
    assert isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef)
    found = []
    for statement in definition.body:
        for node in ast.walk(statement):
            manager = isinstance(node, ast.Attribute) and node.attr in MANAGERS
            query = (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERIES
                and ast.unparse(node.func) not in NOT_QUERIES
            )
            if manager or query:
                found.append(ast.unparse(node))
    return found


def test_no_receiver_of_the_project_queries_the_database_itself() -> None:
    names = {
        r.receiver
        for r in inventory.receivers()
        if r.project and ".tests." not in r.receiver
    }
    assert names, "the project's apps connect receivers"

    written = {name: queries_written_in(import_string(name)) for name in names}

    # Move each to the app's services.py (a write) or to the selectors.py of
    # the app whose data it reads, and call that.
    assert {name: calls for name, calls in written.items() if calls} == {}


def test_a_query_written_in_a_receiver_is_found() -> None:
    def receiver(sender: object, instance: object, **kwargs: object) -> None:
        """Writes and reads inline: what the test above rejects."""
        if kwargs.get("created"):
            sender._default_manager.filter(pk=1).update(seen=True)  # type: ignore[attr-defined]
            instance.groups.clear()  # type: ignore[attr-defined]

    assert sorted(queries_written_in(receiver)) == [
        "instance.groups.clear()",
        "sender._default_manager",
        "sender._default_manager.filter(pk=1)",
        "sender._default_manager.filter(pk=1).update(seen=True)",
    ]
