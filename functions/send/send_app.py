"""send Lambda: not wired yet."""
