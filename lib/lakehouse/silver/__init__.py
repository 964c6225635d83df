"""Silver: typed, deduplicated, PII-safe Delta tables."""
