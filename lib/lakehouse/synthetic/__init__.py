"""Synthetic data for tests, the demo and benchmarks (deterministic, seeded).

Example::

    from lakehouse.synthetic import GeneratorSpec, generate_bronze
    report = generate_bronze(lake_root, GeneratorSpec(events=10_000, start=start, hours=24).with_faults())
"""

from lakehouse.synthetic.bronze import (
    CHANNELS,
    DEFAULT_MIX,
    ERROR_TYPE_OF_FAULT,
    FAULT_KINDS,
    ChannelReport,
    GenerationReport,
    GeneratorSpec,
    generate_bronze,
    write_bronze_file,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_MIX",
    "ERROR_TYPE_OF_FAULT",
    "FAULT_KINDS",
    "ChannelReport",
    "GenerationReport",
    "GeneratorSpec",
    "generate_bronze",
    "write_bronze_file",
]
