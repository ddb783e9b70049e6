"""Developer and operator tools: the CLI, the local stack, the Meta simulator, the console."""
