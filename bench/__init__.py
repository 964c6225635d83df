"""Benchmarks (run as modules: python -m bench.<name>); never timed assertions in tests."""
