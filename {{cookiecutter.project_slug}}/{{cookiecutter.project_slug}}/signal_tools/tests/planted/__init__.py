"""A test-only app that connects its receivers from models.py: what signals.W004 reports.

Installed by signal_tools/tests/test_checks.py for one test, never by the settings.
"""
