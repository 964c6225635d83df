"""Reading Bronze: raw, append-only JSON lines in arrival-time folders."""
