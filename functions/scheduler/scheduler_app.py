"""scheduler Lambda: not wired yet."""
