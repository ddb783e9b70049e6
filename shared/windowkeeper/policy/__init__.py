"""The pure policy engine: channel rules as dated data, and one decision function.

Nothing in this package does I/O or reads the clock: callers pass the instant ``at``.
"""
