"""docs/signals.md and the README's diagram must match the receivers in the code."""

from io import StringIO
from pathlib import Path

from django.conf import settings
from django.core.management import call_command


def test_docs_signals_md_matches_the_receivers_in_the_code():
    # On failure the diff is in the captured stderr, and the error says how to
    # regenerate the page.
    call_command("signals", "--check", Path(settings.BASE_DIR) / "docs" / "signals.md")


def test_the_readme_shows_the_diagram_of_the_receivers_in_the_code():
    out = StringIO()
    call_command("signals", "--format", "mermaid", stdout=out)
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    # Paste the output of `manage.py signals --format mermaid` into the README.
    assert f"```mermaid\n{out.getvalue()}```\n" in readme
