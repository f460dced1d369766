"""Writes of the audit app: every entry of the trail is written by record()."""

from typing import Any, NamedTuple

from django.contrib.auth.models import Group
from django.http import HttpRequest

from ..users.models import User
from ..web.client_ip import client_ip
from ..web.current_request import current_request
from .models import AuditEvent


class Entry(NamedTuple):
    """One entry to write: what happened (an AuditEvent.Action), to whom, what changed."""

    action: str
    # The account (or a group), or the username typed when no account is
    # known (a failed login, a lockout): kept as text, so the entry outlives it.
    target: User | Group | str
    changes: dict[str, Any] | None = None


def record(
    *entries: Entry,
    using: str,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Write entries of the audit trail, in one INSERT (none without entries).

    `using` is the connection of the change they record (a save, a delete, an
    m2m change), so the entries commit or roll back with it; an auth event (a
    login, a failed one, a lockout) is no such change and uses the default
    database. The actor is who did it, when known; the request gives the
    client's address and browser.

    Given neither, as a model signal's receiver is (a save in the admin),
    they come from the request being served, if any: its signed-in user is
    the actor (web/current_request.py).
    """
    if actor is None and request is None:
        request = current_request.get()
        user = getattr(request, "user", None)
        if isinstance(user, User):
            actor = user
    AuditEvent.objects.using(using).bulk_create(
        AuditEvent(
            actor=actor,
            action=entry.action,
            changes=entry.changes or {},
            **target(entry.target),
            **request_details(request),
        )
        for entry in entries
    )


def target(user: User | Group | str) -> dict[str, str]:
    if isinstance(user, str):  # a username, with no account behind it
        return {"target_type": User._meta.label, "target_repr": user[:255]}
    name = user.name if isinstance(user, Group) else user.get_username()
    return {
        "target_type": user._meta.label,
        "target_id": str(user.pk),
        "target_repr": name[:255],
    }


def request_details(request: HttpRequest | None) -> dict[str, Any]:
    """The client's IP address and user agent, when there is a request."""
    if request is None:
        return {}
    # Behind proxies, the client's address, not the proxy's (client_ip());
    # None for a unix socket or a test without REMOTE_ADDR.
    address = client_ip(request) or None
    agent = request.headers.get("user-agent", "")
    return {"ip_address": address, "user_agent": agent[:255]}
