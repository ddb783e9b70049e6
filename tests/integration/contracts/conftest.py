"""Contract tests: each port's cases, run against its in-memory fake and its real adapter on moto.

A test takes the ``<port>`` fixture, parametrised over both implementations; the real one gets a
fresh moto AWS from the ``aws`` fixture. A case that passes on one and fails on the other is a
fake that has drifted (or an adapter that does not do what its port says).
"""
