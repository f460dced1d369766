import pytest
from django.core import mail

from {{ cookiecutter.project_slug }}.users.tests.factories import UserFactory


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def outbox():
    """The emails sent during the test (Django's locmem backend)."""
    mail.outbox.clear()
    return mail.outbox
