import pytest

from .backends import BrokenEmailBackend


@pytest.fixture
def broken_email(settings):
    """Make every email fail to send, as when the mail server is down."""
    backend = f"{BrokenEmailBackend.__module__}.{BrokenEmailBackend.__name__}"
    settings.MAILERS = {"default": {"BACKEND": backend}}
