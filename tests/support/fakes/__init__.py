"""In-memory implementations of ``windowkeeper.ports``, for the services' unit tests.

Each fake keeps the behaviour its port documents and nothing more, and a contract test in
``tests/integration/contracts`` runs the same cases against it and against the real adapter on
moto, so the two cannot drift.
"""
