"""docs/signals.md must list every receiver the project's own apps connect."""

import weakref
from pathlib import Path

from django.conf import settings
from django.db.models import signals as model_signals

PROJECT_PACKAGE = __name__.split(".")[0]
DOC = Path(settings.BASE_DIR) / "docs" / "signals.md"
SIGNALS = [
    model_signals.pre_init,
    model_signals.post_init,
    model_signals.pre_save,
    model_signals.post_save,
    model_signals.pre_delete,
    model_signals.post_delete,
    model_signals.m2m_changed,
]


def project_receivers():
    for signal in SIGNALS:
        # Django 6 stores (lookup_key, receiver, sender_ref, is_async) tuples;
        # the receiver is a weak reference unless connected with weak=False.
        for _, receiver, _, _ in signal.receivers:
            if isinstance(receiver, weakref.ReferenceType):
                receiver = receiver()
            module = getattr(receiver, "__module__", "")
            if module.startswith(PROJECT_PACKAGE + "."):
                yield f"{module}.{receiver.__qualname__}"


def test_every_project_receiver_is_documented():
    documented = DOC.read_text()
    receivers = sorted(set(project_receivers()))

    assert receivers, "no project receiver found: is the lookup broken?"
    assert [name for name in receivers if f"`{name}`" not in documented] == []
