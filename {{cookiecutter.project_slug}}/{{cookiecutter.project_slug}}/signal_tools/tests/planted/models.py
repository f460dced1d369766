"""No models: importing this module connects the receivers in signals.py."""

from . import signals  # noqa: F401
