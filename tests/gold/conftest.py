"""Fixtures of the Gold tests (the hand-built Silver lives in silver_lake.py)."""

from silver_lake import silver  # noqa: F401 - the module-scoped Silver lake fixture
