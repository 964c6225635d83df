"""Evaluate DQDL rulesets with Deequ, persist every outcome, enforce severities.

``evaluate`` runs a ruleset through pydeequ's ``EvaluateDataQuality`` (Deequ's DQDL
engine) against a DataFrame, registered as the temp view ``primary`` (and each
additional source under its alias) so ``CustomSql`` rules can query them. Every rule
outcome is appended to the ``_system/dq_results`` Delta table. A rule the engine
cannot evaluate (unknown rule type, unsupported rule, missing column or source) is a
:class:`DqConfigurationError`, never a data failure. ``enforce`` raises
:class:`DataQualityFailure` when a blocking rule failed; failed ``warn`` rules are
only logged.

Money rules compare exact integer or DECIMAL differences inside ``CustomSql``
(Spark SQL), never Deequ's double-based ``AggregateMatch``.

Deequ runs every ``CustomSql`` rule as its own Spark job, a full scan each. Row checks
of the shape ``CustomSql "select count(*) from primary where <predicate>" = 0`` (also
over ``(select to_json(struct(*)) as row_json from primary)``) are therefore counted
here, all in one scan, with the same outcome and failure reason Deequ gives; the rule
files stay plain DQDL that Glue Data Quality runs unchanged. If that combined query
cannot be analysed, those rules go to Deequ like the rest, which names the bad one.

Example::

    outcomes = evaluate(spark, df, load_ruleset(path), context)
    enforce(outcomes)
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from lakehouse.dq.ruleset import Rule, Ruleset
from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths

os.environ.setdefault("SPARK_VERSION", "3.5")  # pydeequ reads it at import time

log = logging.getLogger(__name__)

# Deequ reports a rule it cannot evaluate as Failed with one of these reasons.
_CONFIGURATION_REASONS = re.compile(
    r"not supported|no converter|does not exist|does not include column|"
    r"not found in additional (data )?sources|"
    r"cannot resolve|unresolved_column|table_or_view_not_found|did not return exactly|Parsing Error|"
    r"org\.apache\.spark\.\S*Exception",
    re.IGNORECASE,
)

DQ_RESULTS_SCHEMA = T.StructType(
    [
        T.StructField("run_id", T.StringType(), False),
        T.StructField("job", T.StringType(), False),
        T.StructField("table_name", T.StringType(), False),
        T.StructField("ruleset", T.StringType(), False),
        T.StructField("rule", T.StringType(), False),
        T.StructField("severity", T.StringType(), False),
        T.StructField("outcome", T.StringType(), False),
        T.StructField("failure_reason", T.StringType(), True),
        T.StructField("evaluated_metrics", T.MapType(T.StringType(), T.DoubleType()), True),
        T.StructField("evaluated_at", T.TimestampType(), False),
    ]
)


class DqConfigurationError(RuntimeError):
    """A ruleset the engine cannot evaluate: fix the ruleset, not the data."""


class DataQualityFailure(RuntimeError):
    """A blocking rule failed: the run stops and nothing downstream publishes."""

    def __init__(self, failed: list[RuleOutcome]):
        self.failed = failed
        names = "; ".join(f"{o.table_name}: {o.rule} ({o.failure_reason})" for o in failed)
        super().__init__(f"{len(failed)} blocking data-quality rule(s) failed: {names}")


@dataclass(frozen=True)
class DqContext:
    """Who is evaluating what, for the results table."""

    lake_root: str
    job: str
    run_id: str
    table_name: str


@dataclass(frozen=True)
class RuleOutcome:
    table_name: str
    ruleset: str
    rule: str
    severity: str
    outcome: str
    failure_reason: str | None
    evaluated_metrics: dict[str, float]

    @property
    def passed(self) -> bool:
        return self.outcome == "Passed"


def _canonical(rule_text: str) -> str:
    """Rule text with whitespace outside quotes removed, for matching engine output."""
    return re.sub(r'\s+(?=(?:[^"]*"[^"]*")*[^"]*$)', "", rule_text)


@contextlib.contextmanager
def _ansi_off(spark: SparkSession) -> Iterator[None]:
    """Deequ's generated SQL is not ANSI-safe (it casts marker strings); jobs run ANSI on."""
    previous = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "false")
    try:
        yield
    finally:
        spark.conf.set("spark.sql.ansi.enabled", previous)


def _run_engine(spark: SparkSession, df: DataFrame, rules: list[Rule], sources: dict[str, DataFrame]):
    from py4j.protocol import Py4JJavaError
    from pydeequ.dqdl import EvaluateDataQuality
    from pyspark.errors import IllegalArgumentException

    dqdl = Ruleset("batch", tuple(rules)).to_dqdl()
    try:
        with _ansi_off(spark):
            return EvaluateDataQuality.process(
                spark, df, dqdl, additionalDataSources=sources or None
            ).collect()
    except (IllegalArgumentException, Py4JJavaError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DqConfigurationError(f"the DQ engine rejected the ruleset: {message}") from None


# CustomSql row checks that can share one scan: the predicate counts violating rows.
_ROW_CHECK = re.compile(
    r'CustomSql "select count\(\*\) from '
    r"(?P<source>primary|\(select to_json\(struct\(\*\)\) as row_json from primary\)) "
    r'where (?P<predicate>[^"]+)" = 0',
    re.IGNORECASE,
)
_ROW_CHECK_METRIC = "Dataset.*.CustomSQL"


@dataclass(frozen=True)
class _Result:
    outcome: str
    failure_reason: str | None
    evaluated_metrics: dict[str, float]


def _row_check_predicates(rules: list[Rule]) -> dict[Rule, str]:
    """The rules that are row checks, with their predicate."""
    return {r: m.group("predicate") for r in rules if (m := _ROW_CHECK.fullmatch(r.text))}


def _count_row_check_violations(spark: SparkSession, predicates: dict[Rule, str]) -> dict[Rule, _Result]:
    """Evaluate row checks in one scan of ``primary``; empty if the query does not analyse."""
    from pyspark.errors import AnalysisException, ParseException

    if not predicates:
        return {}
    counts = ", ".join(f"count_if(({p})) as v{i}" for i, p in enumerate(predicates.values()))
    # ``row_json`` is pruned by the optimizer when no predicate reads it.
    sql = f"select {counts} from (select *, to_json(struct(*)) as row_json from primary)"
    try:
        with _ansi_off(spark):
            (row,) = spark.sql(sql).collect()
    except (AnalysisException, ParseException):
        return {}
    results = {}
    for i, rule in enumerate(predicates):
        violations = row[f"v{i}"]
        failed = violations != 0
        results[rule] = _Result(
            outcome="Failed" if failed else "Passed",
            failure_reason=f"Value: {float(violations)} does not meet the constraint requirement!"
            if failed
            else None,
            evaluated_metrics={_ROW_CHECK_METRIC: float(violations)},
        )
    return results


def evaluate(
    spark: SparkSession,
    df: DataFrame,
    ruleset: Ruleset,
    context: DqContext,
    *,
    additional_sources: dict[str, DataFrame] | None = None,
    persist: bool = True,
) -> list[RuleOutcome]:
    """Evaluate ``ruleset`` on ``df``; persist and return one outcome per rule."""
    sources = additional_sources or {}
    df.createOrReplaceTempView("primary")
    for alias, source in sources.items():
        source.createOrReplaceTempView(alias)
    results = _count_row_check_violations(spark, _row_check_predicates(list(ruleset.rules)))
    rest = [r for r in ruleset.rules if r not in results]
    by_text = {_canonical(r.text): r for r in rest}
    if rest:
        for row in _run_engine(spark, df, rest, sources):
            rule = by_text.get(_canonical(row["Rule"]))
            if rule is not None:
                results[rule] = _engine_result(row)
        for rule in rest:
            if rule not in results:  # the engine re-rendered this rule: evaluate it alone to match it
                (row,) = _run_engine(spark, df, [rule], sources)
                results[rule] = _engine_result(row)
    outcomes = []
    for rule in ruleset.rules:
        result = results[rule]
        reason = result.failure_reason
        if result.outcome != "Passed" and reason and _CONFIGURATION_REASONS.search(reason):
            raise DqConfigurationError(f"{ruleset.name}: rule `{rule.text}` cannot be evaluated: {reason}")
        outcomes.append(
            RuleOutcome(
                table_name=context.table_name,
                ruleset=ruleset.name,
                rule=rule.text,
                severity=rule.severity,
                outcome=result.outcome,
                failure_reason=reason,
                evaluated_metrics=result.evaluated_metrics,
            )
        )
    if persist:
        persist_outcomes(spark, outcomes, context)
    for o in outcomes:
        level = logging.INFO if o.passed else (logging.ERROR if o.severity == "blocking" else logging.WARNING)
        log.log(
            level,
            "dq rule evaluated",
            extra={"table": o.table_name, "rule": o.rule, "severity": o.severity, "outcome": o.outcome},
        )
    return outcomes


def _engine_result(row) -> _Result:
    metrics = {k: float(v) for k, v in (row["EvaluatedMetrics"] or {}).items()}
    return _Result(row["Outcome"], row["FailureReason"], metrics)


def persist_outcomes(spark: SparkSession, outcomes: list[RuleOutcome], context: DqContext) -> None:
    """Append outcomes to ``_system/dq_results``."""
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        (
            context.run_id,
            context.job,
            o.table_name,
            o.ruleset,
            o.rule,
            o.severity,
            o.outcome,
            o.failure_reason,
            o.evaluated_metrics,
            now,
        )
        for o in outcomes
    ]
    delta.append(
        spark.createDataFrame(rows, DQ_RESULTS_SCHEMA), LakePaths(context.lake_root).system("dq_results")
    )


def enforce(outcomes: list[RuleOutcome]) -> None:
    """Raise :class:`DataQualityFailure` if any blocking rule failed."""
    failed = [o for o in outcomes if not o.passed and o.severity == "blocking"]
    if failed:
        raise DataQualityFailure(failed)


def row_level_outcomes(spark: SparkSession, df: DataFrame, ruleset: Ruleset) -> DataFrame:
    """Rows of ``df`` with Deequ's row-level columns (``DataQualityRulesPass``/``Fail``/``Skip``,
    ``DataQualityEvaluationResult``), for rules that have row-level results."""
    from pydeequ.dqdl import EvaluateDataQuality

    df.createOrReplaceTempView("primary")
    with _ansi_off(spark):
        return EvaluateDataQuality.processRows(spark, df, ruleset.to_dqdl())["rowLevelOutcomes"]
