"""The local stack: moto, an API Gateway stand-in, the Meta simulator and a scheduler loop.

``windowkeeper local`` (``scripts/run``) starts it; ``tests/e2e`` start it in-process on ephemeral
ports. The real Lambda handlers run in this process; only the AWS managed pieces are stood in for.
"""
