"""The DQDL engine on real Deequ: outcomes, persistence, severities, configuration errors."""

import pytest
from lakehouse.dq import (
    DataQualityFailure,
    DqConfigurationError,
    DqContext,
    enforce,
    evaluate,
    parse_ruleset,
    row_level_outcomes,
)

PAYMENTS_SCHEMA = "payment_id STRING, status STRING, amount_minor BIGINT"


@pytest.fixture
def payments(spark):
    return spark.createDataFrame(
        [("p1", "captured", 1000), ("p2", "refunded", 250), ("p3", "captured", -5), ("p3", "bogus", 70)],
        PAYMENTS_SCHEMA,
    )


def context(lake, table="silver.payments"):
    return DqContext(lake_root=lake, job="test", run_id="run-1", table_name=table)


def test_passing_and_failing_rules_give_the_expected_outcomes(spark, lake, payments):
    ruleset = parse_ruleset(
        """Rules = [
            IsComplete "payment_id",
            IsUnique "payment_id",
            RowCount = 4,
            # warn
            ColumnValues "status" in ["captured", "refunded"],
            CustomSql "select count(*) from primary where amount_minor < 0" = 0,
            CustomSql "select cast(sum(amount_minor) as decimal(38,0)) - 1315 from primary" = 0
        ]""",
        name="payments",
    )
    outcomes = {o.rule: o for o in evaluate(spark, payments, ruleset, context(lake))}
    assert outcomes['IsComplete "payment_id"'].outcome == "Passed"
    assert outcomes['IsUnique "payment_id"'].outcome == "Failed"
    assert outcomes["RowCount = 4"].outcome == "Passed"
    status_rule = outcomes['ColumnValues "status" in ["captured", "refunded"]']
    assert (status_rule.outcome, status_rule.severity) == ("Failed", "warn")
    assert outcomes['CustomSql "select count(*) from primary where amount_minor < 0" = 0'].outcome == "Failed"
    exact_total = outcomes[
        'CustomSql "select cast(sum(amount_minor) as decimal(38,0)) - 1315 from primary" = 0'
    ]
    assert exact_total.outcome == "Passed"

    persisted = spark.read.format("delta").load(f"{lake}/_system/dq_results")
    assert persisted.count() == 6
    failed = {r.rule for r in persisted.where("outcome = 'Failed'").collect()}
    assert failed == {
        'IsUnique "payment_id"',
        'ColumnValues "status" in ["captured", "refunded"]',
        'CustomSql "select count(*) from primary where amount_minor < 0" = 0',
    }
    assert (
        persisted.where("run_id = 'run-1' and job = 'test' and table_name = 'silver.payments'").count() == 6
    )


def test_enforce_stops_on_a_blocking_failure_only(spark, lake, payments):
    warn_only = parse_ruleset('Rules = [\n# warn\nColumnValues "status" in ["captured"]\n]')
    enforce(evaluate(spark, payments, warn_only, context(lake)))  # recorded, does not raise

    blocking = parse_ruleset('Rules = [ IsUnique "payment_id", IsComplete "status" ]')
    with pytest.raises(DataQualityFailure) as failure:
        enforce(evaluate(spark, payments, blocking, context(lake)))
    assert [o.rule for o in failure.value.failed] == ['IsUnique "payment_id"']


def test_money_comparison_is_exact_where_a_double_ratio_is_not(spark, lake):
    # Two totals one cent apart at 10^17 minor units: equal as doubles, different as integers.
    big = 10**17
    ledger = spark.createDataFrame([("a", big)], "id STRING, amount_minor BIGINT")
    stripe = spark.createDataFrame([("a", big + 1)], "id STRING, amount_minor BIGINT")
    exact_difference = (
        "select abs((select cast(sum(amount_minor) as decimal(38,0)) from primary)"
        " - (select cast(sum(amount_minor) as decimal(38,0)) from stripe))"
    )
    ruleset = parse_ruleset(
        f"""Rules = [
            AggregateMatch "sum(amount_minor)" "sum(stripe.amount_minor)" = 1.0,
            CustomSql "{exact_difference}" = 0
        ]"""
    )
    outcomes = evaluate(spark, ledger, ruleset, context(lake), additional_sources={"stripe": stripe})
    by_type = {o.rule.split()[0]: o.outcome for o in outcomes}
    assert by_type == {"AggregateMatch": "Passed", "CustomSql": "Failed"}


@pytest.mark.parametrize(
    "rule",
    [
        'FrobnicateColumn "payment_id"',  # not a DQDL rule type
        'IsComplete "no_such_column"',  # a column the table does not have
        'RowCountMatch "missing_alias" = 1.0',  # an additional source that was not given
    ],
)
def test_a_rule_the_engine_cannot_evaluate_is_a_configuration_error(spark, lake, payments, rule):
    with pytest.raises(DqConfigurationError):
        evaluate(spark, payments, parse_ruleset(f"Rules = [ {rule} ]"), context(lake), persist=False)


def test_row_level_outcomes_mark_each_row(spark, payments):
    rows = row_level_outcomes(spark, payments, parse_ruleset('Rules = [ ColumnValues "amount_minor" >= 0 ]'))
    results = {r.amount_minor: r.DataQualityEvaluationResult for r in rows.collect()}
    assert results == {1000: "Passed", 250: "Passed", -5: "Failed", 70: "Passed"}


ROW_CHECKS = """Rules = [
    CustomSql "select count(*) from primary where amount_minor < 0" = 0,
    CustomSql "select count(*) from primary where status not in ('captured', 'refunded')" = 0,
    CustomSql "select count(*) from primary where amount_minor > 1000000" = 0,
    CustomSql "select count(*) from (select to_json(struct(*)) as row_json from primary)
               where row_json rlike 'bog'" = 0
]"""


def _jobs_run(spark, group, action):
    sc = spark.sparkContext
    sc.setJobGroup(group, group)
    try:
        result = action()
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
    return result, len(sc.statusTracker().getJobIdsForGroup(group))


def test_row_checks_share_one_scan_and_match_deequ(spark, lake, payments):
    from lakehouse.dq.engine import _run_engine

    ruleset = parse_ruleset(ROW_CHECKS)
    outcomes, jobs = _jobs_run(
        spark, "folded", lambda: evaluate(spark, payments, ruleset, context(lake), persist=False)
    )
    everything_to_deequ = lambda: _run_engine(spark, payments, list(ruleset.rules), {})  # noqa: E731
    deequ, deequ_jobs = _jobs_run(spark, "deequ", everything_to_deequ)
    one_rule = parse_ruleset(f"Rules = [ {ruleset.rules[0].text} ]")
    _, jobs_for_one = _jobs_run(
        spark, "folded-one", lambda: evaluate(spark, payments, one_rule, context(lake), persist=False)
    )
    assert jobs == jobs_for_one < deequ_jobs  # four row checks cost what one costs
    assert [(o.outcome, o.failure_reason) for o in outcomes] == [
        (r["Outcome"], r["FailureReason"]) for r in deequ
    ]
    assert [o.outcome for o in outcomes] == ["Failed", "Failed", "Passed", "Failed"]
    assert [o.evaluated_metrics["Dataset.*.CustomSQL"] for o in outcomes] == [1.0, 1.0, 0.0, 1.0]


def test_a_row_check_on_a_missing_column_is_still_a_configuration_error(spark, lake, payments):
    ruleset = parse_ruleset(
        """Rules = [
            CustomSql "select count(*) from primary where amount_minor < 0" = 0,
            CustomSql "select count(*) from primary where no_such_column < 0" = 0
        ]"""
    )
    with pytest.raises(DqConfigurationError, match="no_such_column"):
        evaluate(spark, payments, ruleset, context(lake), persist=False)
