"""The product's double-entry ledger (Aurora PostgreSQL): its schema, migrations and extraction."""
