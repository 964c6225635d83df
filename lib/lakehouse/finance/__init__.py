"""The finance daily close: the ledger it reconciles, the Stripe side, checks and close marts.

- :mod:`~lakehouse.finance.calendar`: business days in one time zone, half-open UTC windows;
- :mod:`~lakehouse.finance.reference`: currency exponents, reporting categories, the checks;
- :mod:`~lakehouse.finance.ledger`: the ledger's migrations, its server for tests, its snapshot;
- :mod:`~lakehouse.finance.inputs`: ledger and Stripe items in one shape;
- :mod:`~lakehouse.finance.match`: the ledger beside Stripe, per entity;
- :mod:`~lakehouse.finance.checks`: exceptions and the per-check summary;
- :mod:`~lakehouse.finance.marts`: revenue and tax from the ledger;
- :mod:`~lakehouse.finance.state`: close runs, exceptions and resolutions in ``_system``;
- :mod:`~lakehouse.finance.close`: one close, write-audit-publish.
"""
