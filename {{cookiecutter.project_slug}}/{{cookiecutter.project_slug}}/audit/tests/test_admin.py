"""The admin shows the trail and lets nobody change it."""

import pytest

from ..models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/admin/audit/auditevent/"


@pytest.fixture
def event(user):
    return AuditEvent.objects.create(
        action=AuditEvent.Action.EMAIL_CHANGED,
        target_type="users.User",
        target_id=str(user.pk),
        target_repr=user.username,
        changes={"email": {"from": "a@example.com", "to": "b@example.com"}},
    )


def test_the_admin_lists_the_trail(admin_client, event):
    response = admin_client.get(URL)

    assert response.status_code == 200
    assert event.target_repr in response.content.decode()


def test_an_entry_opens_read_only(admin_client, event):
    response = admin_client.get(f"{URL}{event.pk}/change/")

    assert response.status_code == 200
    assert b'name="_save"' not in response.content


def test_entries_cannot_be_added_changed_or_deleted(admin_client, event):
    assert admin_client.get(f"{URL}add/").status_code == 403
    assert admin_client.post(f"{URL}{event.pk}/change/", {}).status_code == 403
    assert (
        admin_client.post(f"{URL}{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
