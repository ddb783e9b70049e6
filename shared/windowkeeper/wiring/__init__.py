"""One wiring module per function: the only code that builds adapters and hands them to services.

``wiring.webhook``, ``wiring.send`` and ``wiring.scheduler`` each read their function's settings
(``windowkeeper.settings.EnvSettings``) once, build the real adapters (DynamoDB stores, the Graph
client, the Scheduler client, the bus) and the services on them, once per container and only
when first needed (a cold start pays for what its first request uses). Tests and the local stack
replace a service or an adapter through the same module (``use_...``), never by patching globals
elsewhere.
"""
