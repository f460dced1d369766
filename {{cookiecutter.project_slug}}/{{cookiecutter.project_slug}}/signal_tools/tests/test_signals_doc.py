"""docs/signals.md must match the receivers in the code, so none lands undocumented."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command


def test_docs_signals_md_matches_the_receivers_in_the_code():
    # On failure the diff is in the captured stderr, and the error says how to
    # regenerate the page.
    call_command("signals", "--check", Path(settings.BASE_DIR) / "docs" / "signals.md")
