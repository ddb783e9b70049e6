"""Windowkeeper: the shared code of the webhook, send and scheduler functions (a Lambda layer)."""

__version__ = "0.1.0"
