"""Meta webhooks in: signature checks, payload models, normalisation, the contact-state writer.

``service.handle_post`` / ``service.handle_subscription`` are the entry points the webhook Lambda
calls; everything below them is plain code that the unit tests drive without AWS.
"""
