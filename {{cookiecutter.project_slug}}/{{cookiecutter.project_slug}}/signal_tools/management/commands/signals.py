"""`python manage.py signals`: every connected receiver, and the check of docs/signals.md."""

import difflib
import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ... import inventory

REGENERATE = "python manage.py signals --format markdown > {path}"
# What a plain --check compares, relative to the project's root (BASE_DIR).
DEFAULT_PAGE = "docs/signals.md"

MARKDOWN_HEADER = """\
# Signal receivers

Every receiver this project's apps connect, grouped by signal, in the order
each signal calls them, described by the first line of its docstring. The
page is generated from the code:

```sh
{regenerate}
```

and the test suite runs `python manage.py signals --check docs/signals.md`,
so a receiver cannot land undocumented. `python manage.py signals` lists
Django's own receivers too, with file and line.

Each arrow goes from a sender (a model, named by the signal on the arrow, or
a signal that any sender may send) to a receiver, grouped by app:

```mermaid
{diagram}```

| signal | sender | receiver | dispatch_uid | defers | what it does |
| --- | --- | --- | --- | --- | --- |
"""

MARKDOWN_NOTES = """
Notes:

- "defers": `commit` means the receiver leaves its work to
  `transaction.on_commit`, so it happens once the change has committed and
  never after a rollback; `task` means the work goes to a background worker;
  `response` means that, in a request, it waits until the response is sent,
  so the client never waits for it.
  The other receivers do their work while the signal is sent, inside the
  sender's transaction when there is one.
- `bulk_create()`, `QuerySet.update()` and raw SQL send no model signals:
  none of the receivers above runs for rows written that way.
- With the slow-receiver guard on (`SIGNALS_SLOW_RECEIVER_GUARD`),
  `signal_tools/slow_receivers.py` also listens to request_started and
  request_finished. It is left out of this page because it depends on the
  settings.
"""


class Command(BaseCommand):
    help = (
        "List every connected signal receiver (Django's and the project's); "
        "--check compares docs/signals.md with the code."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--format",
            choices=["table", "json", "markdown", "mermaid"],
            default="table",
            help="mermaid: a flowchart of the project's apps, senders and receivers",
        )
        parser.add_argument(
            "--app", help="only receivers defined in this app (label: users, auth)"
        )
        parser.add_argument(
            "--signal",
            help="only this signal: post_save, users.signals.user_signed_up, ...",
        )
        parser.add_argument(
            "--sender", help='only this sender: a model label (users.User) or "any"'
        )
        parser.add_argument(
            "--project",
            action="store_true",
            help="only the project's own receivers (markdown and mermaid always are)",
        )
        parser.add_argument(
            "--check",
            nargs="?",
            const=True,  # --check alone
            metavar="PATH",
            help=(
                "exit non-zero with a diff when PATH (default: docs/signals.md "
                "in the project's root) differs from --format markdown"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        filters = {name: options[name] for name in ("app", "signal", "sender")}
        if options["check"]:
            if any(filters.values()):
                raise CommandError(
                    "--check compares the whole page; it takes no filter"
                )
            return self.check_document(page_path(options["check"]))
        if options["app"]:
            known = {app.label for app in apps.get_app_configs()}
            if options["app"] not in known:
                raise CommandError(f"No installed app with label {options['app']!r}.")
        found = [r for r in inventory.receivers() if matches(r, **filters)]
        if options["project"] or options["format"] in ("markdown", "mermaid"):
            found = [r for r in found if r.project]
        if options["format"] == "json":
            output = json.dumps([asdict(r) for r in found], indent=2) + "\n"
        elif options["format"] == "markdown":
            output = markdown(found)
        elif options["format"] == "mermaid":
            output = mermaid(found)
        else:
            output = table(found)
        self.stdout.write(output, ending="")

    def check_document(self, path: Path) -> None:
        expected = markdown([r for r in inventory.receivers() if r.project])
        try:
            committed = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            committed = ""
        if committed == expected:
            self.stdout.write(f"{path} matches the receivers in the code.")
            return
        diff = difflib.unified_diff(
            committed.splitlines(keepends=True),
            expected.splitlines(keepends=True),
            fromfile=f"{path} (committed)",
            tofile=f"{path} (from the code)",
        )
        self.stderr.write("".join(diff), style_func=str, ending="")
        raise CommandError(
            f"{path} does not match the receivers in the code. Regenerate it:\n"
            f"    {REGENERATE.format(path=path)}"
        )


def page_path(given: str | bool) -> Path:
    """The page --check reads: PATH as given, or docs/signals.md in the project's root.

    The default is named from the current directory when it is under it
    (`docs/signals.md` from the root), so the diff and the command to
    regenerate read as they would with the path typed.
    """
    if isinstance(given, str):
        return Path(given)
    page = Path(settings.BASE_DIR).resolve() / DEFAULT_PAGE
    try:
        return page.relative_to(Path.cwd().resolve())
    except ValueError:
        return page


def matches(
    receiver: inventory.Receiver,
    app: str | None = None,
    signal: str | None = None,
    sender: str | None = None,
) -> bool:
    if app and receiver.app != app:
        return False
    if signal and signal not in (receiver.signal, receiver.signal.rpartition(".")[2]):
        return False
    return not sender or receiver.sender.lower() == sender.lower()


def table(receivers: list[inventory.Receiver]) -> str:
    if not receivers:
        return "No receiver matches.\n"
    header = ("signal", "sender", "receiver", "where", "mode", "dispatch_uid", "defers")
    rows = [header] + [
        (
            r.signal,
            r.sender,
            r.receiver,
            f"{r.file}:{r.line}" if r.line else r.file or "-",
            "async" if r.is_async else "sync",
            r.dispatch_uid or "-",
            ", ".join(r.defers) or "-",
        )
        for r in receivers
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def markdown(receivers: list[inventory.Receiver]) -> str:
    regenerate = REGENERATE.format(path="docs/signals.md")
    rows = [
        "| {} | {} | `{}` | {} | {} | {} |".format(
            r.signal,
            cell(r.sender),
            r.receiver,
            f"`{r.dispatch_uid}`" if r.dispatch_uid else "",
            ", ".join(r.defers),
            cell(r.description) or "*(no docstring)*",
        )
        for r in receivers
    ]
    body = "\n".join(rows) + "\n" if rows else ""
    header = MARKDOWN_HEADER.format(regenerate=regenerate, diagram=mermaid(receivers))
    return header + body + MARKDOWN_NOTES


def mermaid(receivers: list[inventory.Receiver]) -> str:
    """A Mermaid flowchart: sender --signal--> receiver, one box per project app.

    A model sender is a box in its app; a receiver of any sender hangs off its
    signal (a project signal sits in the app that defines it, Django's outside).
    """
    labels = {app.label for app in inventory.project_apps()}
    boxes: dict[str | None, dict[str, str]] = {}  # app label -> {node id: node}
    edges = []
    for r in receivers:
        if r.sender == "any":
            source = node_id("signal", r.signal)
            app, _, short = r.signal.partition(".signals.")
            box = app if short and app in labels else None
            node = f'{source}(["{short or r.signal}"])'
        else:
            source = node_id("sender", r.sender)
            app = r.sender.partition(".")[0]
            box = app if app in labels else None
            node = f'{source}["{r.sender}"]'
        boxes.setdefault(box, {})[source] = node
        target = node_id("receiver", r.receiver)
        name = r.receiver.rpartition(".")[2]
        boxes.setdefault(r.app if r.app in labels else None, {})[target] = (
            f'{target}("{name}")'
        )
        arrow = "-->" if r.sender == "any" else f"-->|{r.signal}|"
        edges.append(f"    {source} {arrow} {target}")
    lines = ["flowchart LR"]
    for app in [app.label for app in inventory.project_apps() if app.label in boxes]:
        lines.append(f"    subgraph {node_id('app', app)} [{app}]")
        # Senders and signals first, then the receivers.
        nodes = sorted(boxes[app].items(), key=lambda item: item[0].startswith("r"))
        lines.extend(f"        {node}" for _, node in nodes)
        lines.append("    end")
    lines.extend(f"    {node}" for node in boxes.get(None, {}).values())
    lines.extend(dict.fromkeys(edges))  # one arrow per pair, in order
    return "\n".join(lines) + "\n"


def node_id(kind: str, name: str) -> str:
    """A Mermaid node id: letters, digits and underscores only."""
    name = name.removeprefix(inventory.project_package() + ".")
    return kind + "_" + re.sub(r"\W", "_", name)


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")
