"""One module per ``windowkeeper`` sub-command; each exposes ``register(subparsers)``."""
