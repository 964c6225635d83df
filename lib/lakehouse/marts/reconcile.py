"""Exact reconciliations: two integer series that must agree key by key.

Deequ compares aggregates as doubles; money and counts here are compared as
``DECIMAL(38,0)`` in Spark SQL, so a difference of one minor unit is never rounded away.
A key present on one side only counts as 0 on the other. The outcome is a
:class:`~lakehouse.dq.RuleOutcome`, persisted and enforced with the DQDL outcomes.

Example::

    result = reconcile(
        "gmv_equals_captures",
        actual=spark.sql("select date, currency, captured_minor as value from staged"),
        expected=spark.sql("select event_date as date, currency, sum(amount_minor) as value "
                           "from silver_stg_payments_events group by 1, 2"),
        keys=["date", "currency"],
    )
    result.mismatches          # 0
    result.differences         # DataFrame: keys, actual, expected, difference (DECIMAL(38,0))
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.dq import RuleOutcome
from lakehouse.marts.spec import MartDefinitionError

EXACT = T.DecimalType(38, 0)
EXAMPLES = 5


def _is_integral(data_type: T.DataType) -> bool:
    if isinstance(data_type, T.DecimalType):
        return data_type.scale == 0
    return isinstance(data_type, T.ByteType | T.ShortType | T.IntegerType | T.LongType)


def _values(df: DataFrame, keys: list[str], side: str, name: str) -> DataFrame:
    missing = [c for c in [*keys, "value"] if c not in df.columns]
    if missing:
        raise MartDefinitionError(f"reconciliation {name}: {side} lacks columns {missing}")
    value_type = df.schema["value"].dataType
    if not _is_integral(value_type):
        raise MartDefinitionError(
            f"reconciliation {name}: {side} value is {value_type.simpleString()}; only integers "
            "(or DECIMAL with scale 0) are compared exactly"
        )
    return df.groupBy(*keys).agg(F.sum(F.col("value").cast(EXACT)).cast(EXACT).alias(side))


@dataclass
class ReconciliationResult:
    name: str
    keys: list[str]
    severity: str
    mismatches: int
    examples: list[dict]
    differences: DataFrame  # keys, actual, expected, difference; only the keys that differ

    @property
    def passed(self) -> bool:
        return self.mismatches == 0

    def rule_text(self) -> str:
        return f'Reconcile "{self.name}" by [{", ".join(self.keys)}] actual = expected'

    def outcome(self, table_name: str, ruleset: str) -> RuleOutcome:
        reason = None
        if self.mismatches:
            shown = "; ".join(
                ", ".join(f"{k}={e[k]}" for k in self.keys)
                + f": actual {e['actual']}, expected {e['expected']} (difference {e['difference']})"
                for e in self.examples
            )
            reason = f"{self.mismatches} key(s) differ, e.g. {shown}"
        return RuleOutcome(
            table_name=table_name,
            ruleset=ruleset,
            rule=self.rule_text(),
            severity=self.severity,
            outcome="Passed" if self.passed else "Failed",
            failure_reason=reason,
            evaluated_metrics={"Reconciliation.mismatched_keys": float(self.mismatches)},
        )


def reconcile(
    name: str,
    *,
    actual: DataFrame,
    expected: DataFrame,
    keys: list[str] | tuple[str, ...],
    severity: str = "blocking",
) -> ReconciliationResult:
    """Compare ``actual`` and ``expected`` (each: ``keys`` + integral ``value``, summed per key)."""
    keys = list(keys)
    a = _values(actual, keys, "actual", name).alias("a")
    e = _values(expected, keys, "expected", name).alias("e")
    if keys:
        on = [F.col(f"a.{k}").eqNullSafe(F.col(f"e.{k}")) for k in keys]
        joined = a.join(e, on, "full_outer").select(
            *[F.coalesce(F.col(f"a.{k}"), F.col(f"e.{k}")).alias(k) for k in keys],
            F.coalesce(F.col("a.actual"), F.lit(0).cast(EXACT)).alias("actual"),
            F.coalesce(F.col("e.expected"), F.lit(0).cast(EXACT)).alias("expected"),
        )
    else:
        joined = a.crossJoin(e).select(
            F.coalesce("actual", F.lit(0).cast(EXACT)).alias("actual"),
            F.coalesce("expected", F.lit(0).cast(EXACT)).alias("expected"),
        )
    differences = joined.withColumn("difference", (F.col("actual") - F.col("expected")).cast(EXACT)).where(
        F.col("difference") != 0
    )
    mismatches = differences.count()
    examples = (
        [r.asDict() for r in differences.orderBy(*keys).limit(EXAMPLES).collect()] if mismatches else []
    )
    return ReconciliationResult(name, keys, severity, mismatches, examples, differences)
