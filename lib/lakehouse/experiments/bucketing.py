"""GrowthBook's assignment: FNV-1a 32-bit hash, bucket ranges and choice of variation.

The same algorithm every GrowthBook SDK runs (spec 0.8.0), so each logged exposure can be
re-derived from the registry and audited:

- ``fnv1a32``: FNV-1a over the string's **UTF-16 code units**, as the JavaScript SDK does
  (``charCodeAt``); an astral character (emoji) counts as its two surrogates;
- ``gb_hash(seed, value, 1)`` = ``fnv(value + seed) % 1000 / 1000``;
  ``gb_hash(seed, value, 2)`` = ``fnv(str(fnv(seed + value))) % 10000 / 10000``; other
  versions give null;
- ``bucket_ranges``: variation i owns ``[c_i, c_i + coverage * w_i)``, ``c_i`` the running sum
  of the unscaled weights (a coverage change moves nobody between variations);
- ``choose_variation``: the first range holding n, else -1 (not in the experiment).

Bucket ranges are computed on the driver in Python, whose float arithmetic is the SDK's
(IEEE doubles, the same order of additions); hashing and choosing run in Spark as
built-in expressions (``transform``/``aggregate`` over code units), never a Python UDF.
The pure-Python ``*_py`` twins serve the synthetic generator and tests.

Example::

    ranges = bucket_ranges(2, coverage=0.4, weights=[0.5, 0.5])    # [(0, 0.2), (0.5, 0.7)]
    df.withColumn("variation", assign_variation(F.col("user_id"), "my-test", 1, ranges))
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column
from pyspark.sql import functions as F

FNV_OFFSET_BASIS = 2166136261
FNV_PRIME = 16777619
_UINT32 = 4294967296
HASH_VERSIONS = (1, 2)

Range = tuple[float, float]


# ---------------------------------------------------------------- driver side (pure Python)


def equal_weights(n: int) -> list[float]:
    """``n`` weights of ``1/n`` (none for n <= 0), as GrowthBook's getEqualWeights."""
    return [1 / n] * n if n > 0 else []


def bucket_ranges(n: int, coverage: float = 1.0, weights: Sequence[float] | None = None) -> list[Range]:
    """GrowthBook's getBucketRanges: one half-open ``(start, end)`` per variation.

    Coverage is clamped to [0, 1]; missing weights, weights of another length than ``n`` or
    summing outside [0.99, 1.01] fall back to equal weights (the registry loader rejects
    such weights before they get here).
    """
    coverage = min(max(coverage, 0.0), 1.0)
    equal = equal_weights(n)
    chosen = list(weights) if weights is not None else equal
    if len(chosen) != n:
        chosen = equal
    total = 0.0
    for w in chosen:
        total += w
    if total < 0.99 or total > 1.01:
        chosen = equal
    cumulative = 0.0
    ranges = []
    for w in chosen:
        start = cumulative
        cumulative += w
        ranges.append((start, start + coverage * w))
    return ranges


def fnv1a32_py(text: str) -> int:
    """FNV-1a 32-bit over UTF-16 code units (JavaScript's charCodeAt)."""
    units = text.encode("utf-16-le")
    h = FNV_OFFSET_BASIS
    for i in range(0, len(units), 2):
        h = ((h ^ (units[i] | units[i + 1] << 8)) * FNV_PRIME) % _UINT32
    return h


def gb_hash_py(seed: str, value: str, version: int) -> float | None:
    """GrowthBook's hash in [0, 1), or None for an unknown version."""
    if version == 2:
        return fnv1a32_py(str(fnv1a32_py(seed + value))) % 10000 / 10000
    if version == 1:
        return fnv1a32_py(value + seed) % 1000 / 1000
    return None


def choose_variation_py(n: float, ranges: Sequence[Range]) -> int:
    """Index of the first range with ``start <= n < end``, else -1."""
    for i, (start, end) in enumerate(ranges):
        if start <= n < end:
            return i
    return -1


# ---------------------------------------------------------------- Spark expressions


def _col(value: Column | str | int) -> Column:
    return value if isinstance(value, Column) else F.lit(value)


def utf16_code_units(text: Column) -> Column:
    """``array<int>`` of the UTF-16 code units of a string column (null stays null).

    ``ascii(substr(s, i, 1))`` is the code point of character i (Spark counts characters
    as code points); one above 0xFFFF becomes its surrogate pair.
    """
    positions = F.when(F.length(text) > 0, F.sequence(F.lit(1), F.length(text))).otherwise(
        F.array().cast("array<int>")
    )
    points = F.transform(positions, lambda i: F.ascii(text.substr(i, F.lit(1))))
    astral = lambda cp: cp - 0x10000  # noqa: E731
    return F.flatten(
        F.transform(
            points,
            lambda cp: F.when(
                cp > 0xFFFF,
                F.array(
                    F.shiftright(astral(cp), 10) + 0xD800,
                    astral(cp).bitwiseAND(0x3FF) + 0xDC00,
                ),
            ).otherwise(F.array(cp)),
        )
    )


def fnv1a32(text: Column) -> Column:
    """FNV-1a 32-bit of a string column over its UTF-16 code units, as a BIGINT in [0, 2^32).

    The product of h (< 2^32) and the prime (< 2^25) fits a BIGINT, so ``pmod`` never sees
    an overflow.
    """
    return F.aggregate(
        utf16_code_units(text),
        F.lit(FNV_OFFSET_BASIS).cast("bigint"),
        lambda h, c: F.pmod(h.bitwiseXOR(c.cast("bigint")) * FNV_PRIME, F.lit(_UINT32)),
    )


def gb_hash(seed: Column | str, value: Column | str, version: Column | int) -> Column:
    """GrowthBook's hash of ``value`` under ``seed`` as a DOUBLE in [0, 1); null for versions
    other than 1 and 2 or a null input."""
    seed, value, version = _col(seed), _col(value), _col(version)
    v2 = F.pmod(fnv1a32(fnv1a32(F.concat(seed, value)).cast("string")), F.lit(10000)) / 10000
    v1 = F.pmod(fnv1a32(F.concat(value, seed)), F.lit(1000)) / 1000
    return F.when(version == 2, v2).when(version == 1, v1).cast("double")


def ranges_literal(ranges: Sequence[Range]) -> Column:
    """Driver-side ranges as an ``array<struct<start: double, end: double>>`` literal."""
    return F.array(
        *[
            F.struct(F.lit(float(start)).alias("start"), F.lit(float(end)).alias("end"))
            for start, end in ranges
        ]
    )


def choose_variation(n: Column, ranges: Column | Sequence[Range]) -> Column:
    """Index of the first range holding ``n`` (``start <= n < end``), else -1; null n gives -1.

    :param n: the hash, DOUBLE in [0, 1).
    :param ranges: driver-side ranges, or a column of ``array<struct<start, end>>``
        (e.g. from ``gold.exp_registry``).
    """
    ranges = ranges if isinstance(ranges, Column) else ranges_literal(ranges)
    hits = F.transform(ranges, lambda r, i: F.when((n >= r["start"]) & (n < r["end"]), i))
    return F.coalesce(F.array_min(hits), F.lit(-1))


def assign_variation(
    value: Column, seed: Column | str, version: Column | int, ranges: Column | Sequence[Range]
) -> Column:
    """The variation index GrowthBook assigns to ``value``, or -1 when it is not in the
    experiment (empty or null id, unknown hash version, hash in no range)."""
    n = F.when(value.isNotNull() & (value != ""), gb_hash(seed, value, version))
    return choose_variation(n, ranges)
