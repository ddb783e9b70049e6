"""Meta webhooks in: signature checks, payload models, normalisation, collapse into contact deltas.

``service.handle_post`` / ``service.handle_subscription`` are the use cases; they take their
adapters as ``ports.webhook.WebhookPorts``, which ``wiring/webhook.py`` builds for the Lambda.
Everything here is plain code that the unit tests drive without AWS.
"""
