"""Setup code shared by the unit and integration tiers: AWS-shaped events, realistic accounts,
seeded contact items, a fake Meta and a capture of what reaches the event bus.

Each module builds inputs only; no module here asserts anything, so a test's checks stay in the
test.
"""
