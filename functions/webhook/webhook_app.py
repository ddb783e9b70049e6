"""webhook Lambda: not wired yet."""
