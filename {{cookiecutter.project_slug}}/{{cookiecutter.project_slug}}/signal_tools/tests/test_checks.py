"""The system checks on receivers (signal_tools/checks.py): signals.W001 to W004.

Each test plants one badly written receiver, connected for the test only,
and sees `manage.py check` report it with its hint, and stay quiet once the
check is in SILENCED_SYSTEM_CHECKS.
"""

import ast
import inspect
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import pytest
from django.core import checks
from django.core.mail import send_mail
from django.core.management import call_command
from django.db import transaction
from django.db.models.signals import post_save
from pytest_django.fixtures import Settings

from .. import checks as signal_checks

Receiver = Callable[..., Any]

HERE = __name__


def missing_uid(sender: Any, instance: Any, raw: bool, **kwargs: Any) -> None:
    """Connected below without a dispatch_uid."""
    if raw:
        return


def ignores_raw(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Runs for fixtures too."""
    if created:
        instance.__dict__["seen"] = True


def mails_at_once(
    sender: Any, instance: Any, created: bool, raw: bool, **kwargs: Any
) -> None:
    """Sends mail before the save commits."""
    if created and not raw:
        send_mail("Hi", "Welcome", None, [instance.email])


def mails_on_commit(
    sender: Any, instance: Any, created: bool, raw: bool, **kwargs: Any
) -> None:
    """Sends mail once the save commits: the right way."""
    if created and not raw:
        transaction.on_commit(lambda: send_mail("Hi", "Hello", None, [instance.email]))


@contextmanager
def connected(receiver: Any, **kwargs: Any) -> Iterator[None]:
    post_save.connect(receiver, sender="users.User", **kwargs)
    try:
        yield
    finally:
        post_save.disconnect(receiver, sender="users.User", **kwargs)


def check(**kwargs: Any) -> str:
    """What `manage.py check --tag signals` prints, warnings included.

    The tag leaves out the checks that need a database.
    """
    out = StringIO()
    call_command("check", "--tag", "signals", stdout=out, stderr=out, **kwargs)
    return out.getvalue()


def signal_warnings() -> list[tuple[str | None, Any]]:
    found = checks.run_checks(tags=[checks.Tags.signals])
    return [(w.id, w.obj) for w in found if (w.id or "").startswith("signals.W")]


def test_the_projects_receivers_pass_clean() -> None:
    assert signal_warnings() == []
    assert "System check identified no issues" in check()


@pytest.mark.parametrize(
    ("receiver", "connect", "check_id", "message", "hint"),
    [
        (missing_uid, {}, "signals.W001", "without a dispatch_uid", "dispatch_uid"),
        (
            ignores_raw,
            {"dispatch_uid": "tests.ignores_raw"},
            "signals.W002",
            "which carries raw, but never reads raw",
            "return early when it is True",
        ),
        (
            mails_at_once,
            {"dispatch_uid": "tests.mails_at_once"},
            "signals.W003",
            "calls send_mail() directly (line {line})",
            "transaction.on_commit()",
        ),
    ],
)
def test_a_planted_receiver_is_reported_with_its_fix_and_can_be_silenced(
    settings: Settings,
    receiver: Receiver,
    connect: dict[str, str],
    check_id: str,
    message: str,
    hint: str,
) -> None:
    name = f"{HERE}.{receiver.__name__}"
    lines, first = inspect.getsourcelines(receiver)
    line = (
        first + next(i for i, text in enumerate(lines) if "send_mail(" in text)
        if "{line}" in message
        else 0
    )
    message = message.format(line=line)
    with connected(receiver, **connect):
        assert signal_warnings() == [(check_id, name)]
        output = check()
        assert f"{name}: ({check_id}) " in output
        assert message in output
        assert (
            f"HINT: {signal_checks.HINTS[check_id.removeprefix('signals.')]}" in output
        )
        assert hint in output

        settings.SILENCED_SYSTEM_CHECKS = [check_id]
        assert "System check identified no issues (1 silenced)" in check()


def test_mail_sent_from_on_commit_is_not_reported() -> None:
    with connected(mails_on_commit, dispatch_uid="tests.mails_on_commit"):
        assert signal_warnings() == []


@pytest.fixture
def planted_app(settings: Settings) -> Iterator[None]:
    """An app whose models.py imports its signals.py, installed for one test."""
    settings.INSTALLED_APPS = [
        *settings.INSTALLED_APPS,
        f"{HERE.rpartition('.')[0]}.planted",
    ]
    yield
    post_save.disconnect(sender="users.User", dispatch_uid="planted.on_user_saved")


def test_receivers_connected_from_models_py_are_reported(
    planted_app: None, settings: Settings
) -> None:
    models = f"{HERE.rpartition('.')[0]}.planted.models"

    assert signal_warnings() == [("signals.W004", models)]
    output = check()
    assert f"{models}: (signals.W004) {models} imports " in output
    assert (
        "HINT: Import the receivers' module from the app's AppConfig.ready()" in output
    )

    settings.SILENCED_SYSTEM_CHECKS = ["signals.W004"]
    assert "System check identified no issues (1 silenced)" in check()


def effects(source: str) -> list[tuple[int, str]]:
    """outside_effects() of a receiver written as source, in a module that imports nothing."""
    function = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    return signal_checks.outside_effects(function, {}, "pkg.app")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "from django.core import mail\nmail.send_mail('s', 'm', None, ['a@b.c'])",
            ["send_mail()"],
        ),
        (
            "from django.core.mail import mail_admins as tell\ntell('s', 'm')",
            ["mail_admins()"],
        ),
        (
            "from django.core.mail import EmailMessage\nEmailMessage('s').send()",
            ["EmailMessage.send()"],
        ),
        (
            "from django.core import mail\nmessage = mail.EmailMultiAlternatives('s')\nmessage.send()",
            ["EmailMessage.send()"],
        ),
        (
            "from django.core.mail import mailers\nmailers.default.send_messages([])",
            ["an email backend's send_messages()"],
        ),
        ("import requests\nrequests.post('https://example.com')", ["requests.post()"]),
        ("from httpx import get\nget('https://example.com')", ["httpx.get()"]),
        (
            "import urllib.request\nurllib.request.urlopen('https://example.com')",
            ["urllib.request.urlopen()"],
        ),
        ("from .tasks import greet\ngreet.delay(1)", ["greet.delay()"]),
        ("tasks.greet.apply_async((1,))", ["tasks.greet.apply_async()"]),
        ("greet.enqueue(1)", ["greet.enqueue()"]),
        # Not reported: handed to on_commit, sending a signal, a helper it cannot see into.
        (
            "from django.core.mail import send_mail\ntransaction.on_commit(lambda: send_mail('s'))",
            [],
        ),
        (
            "from functools import partial\ntransaction.on_commit(partial(greet.delay, 1))",
            [],
        ),
        ("user_signed_up.send(sender=None, user=instance)", []),
        ("from .services import deliver\ndeliver(1)", []),
        ("def later():\n    greet.delay(1)\ntransaction.on_commit(later)", []),
    ],
)
def test_outside_effects_are_found_through_imports(
    body: str, expected: list[str]
) -> None:
    source = "def receiver(sender, **kwargs):\n" + textwrap.indent(body, "    ")

    assert [what for _, what in effects(source)] == expected
