import pytest
from django.core import mail

from {{ cookiecutter.project_slug }}.users.tests.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def broken_email(settings):
    """Make every email fail to send, as when the mail server is down."""
    broken = "{{ cookiecutter.project_slug }}.notifications.tests.backends.BrokenEmailBackend"
    settings.MAILERS = {"default": {"BACKEND": broken}}


@pytest.fixture
def outbox():
    """The emails sent during the test (Django's locmem backend)."""
    mail.outbox.clear()
    return mail.outbox
