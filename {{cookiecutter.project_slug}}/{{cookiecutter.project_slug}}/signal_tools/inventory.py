"""Find the connected signal receivers: what `manage.py signals` lists.

It reads `Signal.receivers`, a private list of Django's. Since Django 6.0 its
entries are (lookup_key, receiver, sender_ref, is_async); the receiver is a
weak reference (a WeakMethod for bound methods) unless it was connected with
weak=False, and a dead reference stays in the list until the next send. The
tests connect every kind of receiver, so a Django upgrade that changes this
shows up there first.
"""

import functools
import importlib
import importlib.util
import inspect
import site
import sys
import sysconfig
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.contrib.auth import signals as auth_signals
from django.core import signals as core_signals
from django.db import models
from django.db.models import signals as model_signals
from django.dispatch import Signal
from django.tasks import signals as task_signals
from django.utils.module_loading import import_string

DJANGO_SIGNALS: list[tuple[ModuleType, list[str]]] = [
    (
        model_signals,
        [
            "pre_init",
            "post_init",
            "pre_save",
            "post_save",
            "pre_delete",
            "post_delete",
            "m2m_changed",
            "pre_migrate",
            "post_migrate",
            "class_prepared",
        ],
    ),
    (
        core_signals,
        [
            "request_started",
            "request_finished",
            "got_request_exception",
            "setting_changed",
        ],
    ),
    (auth_signals, ["user_logged_in", "user_logged_out", "user_login_failed"]),
    (task_signals, ["task_enqueued", "task_started", "task_finished"]),
]


@dataclass(frozen=True)
class Receiver:
    signal: str
    sender: str
    receiver: str
    file: str
    line: int | None
    is_async: bool
    dispatch_uid: str | None
    defers: tuple[str, ...]
    description: str
    app: str | None
    project: bool


def project_package() -> str:
    """The package of the project's apps (settings.SIGNAL_TOOLS_PROJECT_PACKAGE)."""
    package: str = settings.SIGNAL_TOOLS_PROJECT_PACKAGE
    return package


def project_apps() -> list[AppConfig]:
    prefix = project_package() + "."
    return [app for app in apps.get_app_configs() if app.name.startswith(prefix)]


def signals() -> list[tuple[str, Signal]]:
    """Every signal to look at, as (name, signal): Django's, third-party ones, the project's.

    The project's are the Signal instances at the top level of each of its
    apps' signals.py, named by their path in the project package, such as
    "users.signals.user_signed_up".
    """
    found = [
        (name, getattr(module, name))
        for module, names in DJANGO_SIGNALS
        for name in names
    ]
    found += [
        (path, import_string(path))
        for path in settings.SIGNAL_TOOLS_THIRD_PARTY_SIGNALS
    ]
    for app in project_apps():
        module_name = f"{app.name}.signals"
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        relative = module_name.removeprefix(project_package() + ".")
        for attribute, value in vars(module).items():
            if not isinstance(value, Signal):
                continue
            if not any(value is signal for _, signal in found):  # not an import
                found.append((f"{relative}.{attribute}", value))
    return found


def receivers() -> list[Receiver]:
    """The live receivers of every signal, in the order each signal calls them."""
    return [
        receiver
        for name, signal in signals()
        for receiver in receivers_of(name, signal)
    ]


def live_entries(
    signal: Signal,
) -> Iterator[tuple[Any, Callable[..., Any], Any, bool]]:
    """(lookup_key, receiver, sender_ref, is_async) of each receiver still alive."""
    for entry in list(signal.receivers):
        # Sliced rather than unpacked: a field added to the tuple by a later
        # Django must not break the listing.
        lookup_key, target, sender_ref, is_async = entry[:4]
        if isinstance(target, weakref.ReferenceType):
            target = target()
            if target is None:  # the receiver was garbage-collected
                continue
        yield lookup_key, target, sender_ref, is_async


def dispatch_uid_of(lookup_key: tuple[Any, Any]) -> str | None:
    # connect() keys a receiver on (dispatch_uid, sender id) when given a
    # dispatch_uid, on (receiver id, sender id) otherwise.
    return lookup_key[0] if isinstance(lookup_key[0], str) else None


def receivers_of(name: str, signal: Signal) -> Iterator[Receiver]:
    for lookup_key, target, sender_ref, is_async in live_entries(signal):
        if sender_ref is not None:
            sender = sender_ref()
            if sender is None:  # the sender was garbage-collected
                continue
            sender = describe_sender(sender)
        elif lookup_key[1] == id(None):
            sender = "any"
        else:
            sender = "unknown (not weakly referenceable)"
        dispatch_uid = dispatch_uid_of(lookup_key)
        target = unwrap(target)
        module = module_of(target)
        file, line = source_of(target)
        app = apps.get_containing_app_config(module)
        yield Receiver(
            signal=name,
            sender=sender,
            receiver=dotted_name(target),
            file=file,
            line=line,
            is_async=is_async,
            dispatch_uid=dispatch_uid,
            defers=tuple(getattr(target, "defers", ())),
            description=first_line(inspect.getdoc(target)),
            app=app.label if app else None,
            project=is_project(module),
        )


def is_project(module: str) -> bool:
    """Whether a module is the project's own, not tooling (SIGNAL_TOOLS_TOOLING_MODULES)."""
    package = project_package()
    in_package = module == package or module.startswith(package + ".")
    return in_package and module not in settings.SIGNAL_TOOLS_TOOLING_MODULES


def unwrap(target: Any) -> Any:
    while isinstance(target, functools.partial):
        target = target.func
    return inspect.unwrap(target)


def named(target: Any) -> Any:
    """The target itself if it has a name (function, method, class), else its class."""
    return target if hasattr(target, "__qualname__") else type(target)


def module_of(target: Any) -> str:
    return getattr(named(target), "__module__", None) or ""


def dotted_name(target: Any) -> str:
    """`module.qualname` of a function, method, class or callable object."""
    module = module_of(target)
    qualname = named(target).__qualname__
    return f"{module}.{qualname}" if module else qualname


def describe_sender(sender: object) -> str:
    """A model's label ("users.User"), a string sender as is, else a dotted name."""
    if isinstance(sender, type) and issubclass(sender, models.Model):
        return sender._meta.label
    if isinstance(sender, str):
        return sender
    return dotted_name(sender)


def source_of(target: Any) -> tuple[str, int | None]:
    """(file, first line) of a receiver's code; the file relative to the project or to sys.path."""
    function = getattr(target, "__func__", target)
    code = getattr(function, "__code__", None)
    if code is None:  # a callable object: its class's __call__
        code = getattr(type(target).__call__, "__code__", None)
    if code is None:
        return "", None
    return short_path(code.co_filename), code.co_firstlineno


def library_roots() -> list[Path]:
    """Where installed and standard-library modules live: site-packages, the stdlib."""
    paths = sysconfig.get_paths()
    # Not "data" or "scripts": a virtualenv made in the project root has the
    # project root as its prefix.
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    roots = [paths[name] for name in names if name in paths]
    roots += [*site.getsitepackages(), site.getusersitepackages()]
    return [Path(root) for root in roots]


def short_path(filename: str) -> str:
    """A receiver's file as people name it, wherever the virtualenv lives.

    Installed and standard-library files are shown relative to their root
    (`django/db/models/...`), even when the virtualenv is `.venv` inside the
    project; the project's own files relative to the project root; anything
    else relative to the deepest `sys.path` entry that holds it.
    """
    path = Path(filename)
    groups = [
        library_roots(),
        [Path(settings.BASE_DIR)],
        [Path(entry) for entry in sys.path if entry],
    ]
    for roots in groups:
        holding = [root for root in roots if path.is_relative_to(root)]
        if holding:
            deepest = max(holding, key=lambda root: len(root.parts))
            return path.relative_to(deepest).as_posix()
    return filename


def first_line(docstring: str | None) -> str:
    return docstring.strip().splitlines()[0] if docstring else ""
