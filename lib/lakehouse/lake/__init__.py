"""The storage contract: where each layer lives under ``lake_root``, and Delta helpers."""
