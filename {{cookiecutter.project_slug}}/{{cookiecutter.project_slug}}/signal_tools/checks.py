"""System checks on the project's own signal receivers: `manage.py check` runs them.

- signals.W001: a receiver connected without a dispatch_uid.
- signals.W002: a receiver of pre_save, post_save or m2m_changed (the signals
  that carry `raw`) that never reads `raw`.
- signals.W003: a receiver that sends mail, calls an HTTP client or queues a
  task itself, while the sender's transaction may still roll back.
- signals.W004: an app's models.py that connects receivers when it is
  imported, instead of its AppConfig.ready().

Only receivers defined in the project package are checked, not Django's or
third-party ones. Silence one check with SILENCED_SYSTEM_CHECKS, e.g.
["signals.W003"] in config/settings/base.py.

W002, W003 and W004 read source code with `ast`; they see what is written,
not what runs:

- W002 counts any mention of `raw` in the body (the argument, or
  kwargs["raw"]): a receiver that hands raw to a helper passes, whatever the
  helper does with it.
- W003 sees the calls written in the receiver's own body: send_mail(),
  send_mass_mail(), mail_admins(), mail_managers() and .send_messages(); the
  .send() of an EmailMessage or EmailMultiAlternatives made in the receiver;
  requests.*, httpx.* and urllib.request.urlopen(); and .delay(),
  .apply_async(), .enqueue(), .aenqueue() on anything. Names are resolved
  through the module's imports (`from django.core import mail` then
  `mail.send_mail`). It cannot see a call made through a helper function or
  method of the project (notifications.outbox.deliver sends mail, but a
  receiver calling it is not reported), through an object built elsewhere
  (an httpx.Client, a mailer from settings), or by a nested function the
  receiver calls itself. Calls inside a lambda or nested function are not
  counted: that is how work is handed to transaction.on_commit.
- W004 reads each project app's models.py (the models/__init__.py of a
  package): a @receiver there, a top-level .connect() call, or an import of
  a module that defines connected receivers. An import made further down
  (models.py imports a module that imports signals.py) is not followed.
"""

import ast
import importlib.util
import inspect
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

from django.apps import AppConfig, apps
from django.core.checks import CheckMessage, Warning
from django.db.models.signals import m2m_changed, post_save, pre_save

from . import inventory

RAW_SIGNALS = (pre_save, post_save, m2m_changed)

MAIL_MODULES = ("django.core.mail", "django.core.mail.message")
MAIL_FUNCTIONS = {"send_mail", "send_mass_mail", "mail_admins", "mail_managers"}
EMAIL_CLASSES = {"EmailMessage", "EmailMultiAlternatives"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}
HTTP_FUNCTIONS = (
    {f"requests.{method}" for method in HTTP_METHODS}
    | {f"requests.api.{method}" for method in HTTP_METHODS}
    | {f"httpx.{method}" for method in HTTP_METHODS | {"stream"}}
    | {"urllib.request.urlopen"}
)
TASK_METHODS = {"delay", "apply_async", "enqueue", "aenqueue"}

HINTS = {
    "W001": (
        'Give it a dispatch_uid ("app_label.receiver_name") in @receiver() or '
        "connect(), so a second import cannot connect it twice."
    ),
    "W002": (
        "Take raw and return early when it is True: fixtures and loaddata save "
        "with raw=True, and their rows must load as they are."
    ),
    "W003": (
        "Call it from transaction.on_commit() (or write an outbox row and "
        "deliver it after commit), so a rolled-back change has no effect outside."
    ),
    "W004": (
        "Import the receivers' module from the app's AppConfig.ready(), "
        "not from models.py."
    ),
}

Receiver = Callable[..., Any]


def warning(check: str, message: str, obj: str) -> Warning:
    return Warning(message, hint=HINTS[check], obj=obj, id=f"signals.{check}")


def check_receivers(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """signals.W001 to W004 for the project's receivers (for the given apps, or all)."""
    found: list[CheckMessage] = []
    checked_calls: set[str] = set()
    for signal_name, signal in inventory.signals():
        for lookup_key, target, _, _ in inventory.live_entries(signal):
            target = inventory.unwrap(target)
            module = inventory.module_of(target)
            if not inventory.is_project(module) or not in_apps(module, app_configs):
                continue
            name = inventory.dotted_name(target)
            if inventory.dispatch_uid_of(lookup_key) is None:
                message = (
                    f"{name} is connected to {signal_name} without a dispatch_uid."
                )
                found.append(warning("W001", message, name))
            function = parse_function(target)
            if function is None:  # no source to read (a lambda, a C function)
                continue
            if any(signal is s for s in RAW_SIGNALS) and not mentions_raw(function):
                message = (
                    f"{name} receives {signal_name}, which carries raw, "
                    "but never reads raw."
                )
                found.append(warning("W002", message, name))
            module_code = sys.modules.get(module)
            if module_code is None or name in checked_calls:  # seen on another signal
                continue
            checked_calls.add(name)
            imports = imported_names(module_code)
            package = module_code.__package__ or ""
            for line, what in outside_effects(function, imports, package):
                message = (
                    f"{name} calls {what} directly (line {line}), "
                    "before the sender's transaction commits."
                )
                found.append(warning("W003", message, name))
    found.extend(models_connecting_receivers(app_configs))
    return found


def in_apps(module: str, app_configs: Sequence[AppConfig] | None) -> bool:
    return app_configs is None or apps.get_containing_app_config(module) in app_configs


def parse_function(
    target: Receiver,
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The receiver's function definition, parsed; None when there is none to read."""
    function = getattr(target, "__func__", target)  # a bound method's function
    if not inspect.isfunction(function):  # a callable object: its class's __call__
        function = type(target).__call__
    try:
        lines, first_line = inspect.getsourcelines(function)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return None
    ast.increment_lineno(tree, first_line - 1)  # line numbers of the file
    node = tree.body[0] if tree.body else None
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node
    return None  # a lambda: its line is not a definition


def mentions_raw(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether the body reads the name raw or uses the string "raw" (kwargs["raw"])."""
    for node in walk(function.body):
        if isinstance(node, ast.Name) and node.id == "raw":
            return True
        if isinstance(node, ast.Constant) and node.value == "raw":
            return True
    return False


def walk(nodes: Iterable[ast.AST], *, nested: bool = True) -> Iterator[ast.AST]:
    """Every node under `nodes`; without `nested`, not inside lambdas and nested functions."""
    stack = list(nodes)[::-1]
    while stack:
        node = stack.pop()
        yield node
        deferred = ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        if not nested and isinstance(node, deferred):
            continue
        stack.extend(list(ast.iter_child_nodes(node))[::-1])


def imported_names(module: ModuleType) -> dict[str, str]:
    """What each name imported at the top of a module stands for: {"mail": "django.core.mail"}."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError):
        return {}
    return names_bound_by(tree.body, module.__package__ or "")


def names_bound_by(statements: Iterable[ast.AST], package: str) -> dict[str, str]:
    """The names the import statements among `statements` bind, and what each stands for."""
    names: dict[str, str] = {}
    for node in statements:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:  # `import urllib.request` binds urllib
                    first = alias.name.split(".")[0]
                    names[first] = first
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            for alias in node.names:
                names[alias.asname or alias.name] = f"{base}.{alias.name}"
    return names


def dotted(node: ast.AST, imports: dict[str, str]) -> str | None:
    """`mail.send_mail` as "django.core.mail.send_mail", through the imports; None if not a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(imports.get(node.id, node.id))
    return ".".join(reversed(parts))


def is_email(node: ast.AST, imports: dict[str, str]) -> bool:
    """Whether node is a call of EmailMessage(...) or EmailMultiAlternatives(...)."""
    if not isinstance(node, ast.Call):
        return False
    name = dotted(node.func, imports) or ""
    module, _, attribute = name.rpartition(".")
    return module in MAIL_MODULES and attribute in EMAIL_CLASSES


def outside_effects(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
    imports: dict[str, str],
    package: str,
) -> list[tuple[int, str]]:
    """(line, "what()") of each call with an effect outside the database.

    `imports` are the names the receiver's module imports (imported_names()),
    `package` the module's package, for relative imports in the receiver.
    """
    imports = {**imports, **names_bound_by(walk(function.body), package)}
    body = list(walk(function.body, nested=False))
    emails = {
        target.id
        for node in body
        if isinstance(node, ast.Assign) and is_email(node.value, imports)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in body:
        if not isinstance(node, ast.Call):
            continue
        what = outside_effect(node.func, imports, emails)
        if what:
            found.append((node.lineno, what))
    return found


def outside_effect(func: ast.AST, imports: dict[str, str], emails: set[str]) -> str:
    """What the called function is, as "send_mail()", if it acts outside; else ""."""
    name = dotted(func, imports) or ""
    module, _, attribute = name.rpartition(".")
    if module in MAIL_MODULES and attribute in MAIL_FUNCTIONS:
        return f"{attribute}()"
    if name in HTTP_FUNCTIONS:
        return f"{name}()"
    if not isinstance(func, ast.Attribute):
        return ""
    if func.attr == "send_messages":
        return "an email backend's send_messages()"
    if func.attr == "send" and (
        is_email(func.value, imports)
        or (isinstance(func.value, ast.Name) and func.value.id in emails)
    ):
        return "EmailMessage.send()"
    if func.attr in TASK_METHODS:
        return f"{ast.unparse(func)}()"
    return ""


def models_connecting_receivers(
    app_configs: Sequence[AppConfig] | None,
) -> list[CheckMessage]:
    """signals.W004: project apps whose models module connects receivers at import."""
    receiver_modules = {
        inventory.module_of(inventory.unwrap(target))
        for _, signal in inventory.signals()
        for _, target, _, _ in inventory.live_entries(signal)
    }
    receiver_modules = {m for m in receiver_modules if inventory.is_project(m)}
    found: list[CheckMessage] = []
    for app in inventory.project_apps():
        module = app.models_module
        if module is None or (app_configs is not None and app not in app_configs):
            continue
        try:
            tree = ast.parse(inspect.getsource(module))
        except (OSError, TypeError, SyntaxError):
            continue
        for why in connections_at_import(tree, module, receiver_modules):
            message = f"{module.__name__} {why}: its receivers are connected when the models are imported."
            found.append(warning("W004", message, module.__name__))
    return found


def connections_at_import(
    tree: ast.Module, module: ModuleType, receiver_modules: set[str]
) -> Iterator[str]:
    """What a models module does at import that connects receivers, in words."""
    package = module.__package__ or ""
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in imported_modules(node, package) & receiver_modules:
                yield f"imports {name}"
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if (dotted(call, {}) or "").rpartition(".")[2] == "receiver":
                    yield f"defines the receiver {node.name} with @receiver"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Attribute) and func.attr == "connect":
                yield f"calls {ast.unparse(func)}() at line {node.lineno}"


def imported_modules(node: ast.Import | ast.ImportFrom, package: str) -> set[str]:
    """The modules an import statement may import (`from a import b`: a, and a.b if a module)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        base = importlib.util.resolve_name("." * node.level + base, package)
    return {base} | {f"{base}.{alias.name}" for alias in node.names}
