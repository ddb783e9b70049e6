"""The interfaces the services need from the outside world, one module per store or client.

A service takes these in its constructor and never builds an adapter itself. Each interface has
two implementations that a contract test (``tests/integration/contracts``) runs the same cases
against: the real adapter (``windowkeeper.store``: DynamoDB through boto3; ``windowkeeper.graph``:
the Graph API through httpx) and an in-memory fake (``tests/support/fakes``) that the services'
unit tests run on. The wiring modules (``windowkeeper.wiring``) pick the real ones, once per
container.

Interfaces are ``typing.Protocol``s: structural, so an adapter does not import its port and mypy
still checks that both implementations fit.
"""
