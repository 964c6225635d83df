"""The daily close end to end on the synthetic finance world (Stripe webhooks through the real
bronze_to_silver job, the ledger as an Aurora-style snapshot and in a real PostgreSQL): every
planted discrepancy found with its exact difference and nothing else, a clean day published,
resolution then publication, restatement, and a crash at step boundaries leaving the published
close intact (mid-publish, and between the published state and the ledger of what was
read). The tests of this module run in order on one lake."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lakehouse.finance import state as S
from lakehouse.finance.close import CLOSE_MARTS, CloseError, LedgerSource, close_day
from lakehouse.finance.ledger.extract import LedgerJdbc
from lakehouse.finance.ledger.migrate import migrate
from lakehouse.finance.report import close_report_path
from lakehouse.finance.status import close_status_lines
from lakehouse.lake import delta
from lakehouse.lake.paths import LakePaths
from lakehouse.synthetic.finance import load_ledger
from pyspark.sql import functions as F

from finance.finance_lake import build_finance_lake

# What each planted kind must raise: the check and the status of its match row.
EXPECTED_CHECK = {
    "amount_mismatch": "R9",
    "currency_mismatch": "R9",
    "missing_in_processor": "R10",
    "missing_in_ledger": "R10",
    "duplicate_ledger_row": "R10",
}
MART_COLUMNS_WITHOUT_RUN = ("close_run_id", "close_version")


@pytest.fixture(scope="module")
def flake(spark, tmp_path_factory):
    return build_finance_lake(spark, str(tmp_path_factory.mktemp("finance") / "lake"))


@pytest.fixture(scope="module")
def paths(flake):
    return LakePaths(flake.root)


def _findings(spark, paths, attempt_id):
    rows = S.attempt_rows(spark, paths, S.CLOSE_EXCEPTIONS, attempt_id).where("status <> 'allowed'").collect()
    return {(r.check_id, r.entity_id, r.currency, r.diff_minor) for r in rows}


def _planted(world, day):
    return {
        (EXPECTED_CHECK[p.kind], p.entity_id, p.currency, p.diff_minor)
        for p in world.planted
        if p.close_date == day and p.kind in EXPECTED_CHECK
    }


def test_each_planted_discrepancy_is_found_with_its_exact_difference_and_nothing_else(spark, flake, paths):
    for n in (0, 1):
        outcome = close_day(spark, paths, flake.request(n, attempt_id=f"first-{n}"))
        assert outcome.state == "failed"
        assert _findings(spark, paths, f"first-{n}") == _planted(flake.world, flake.day(n))
        assert outcome.blocking_open == len(_planted(flake.world, flake.day(n)))
        page = close_report_path(paths, flake.day(n)).read_text(encoding="utf-8")
        assert f"close-{flake.day(n)}-v1): failed" in page and "<svg" in page
        assert all(entity in page for _, entity, _, _ in _planted(flake.world, flake.day(n)))
    # Nothing of a failed close is published: no close mart has been written at all.
    assert not any(delta.table_exists(spark, paths.gold(mart)) for mart in CLOSE_MARTS)
    # The tie-out shows the currency mismatch in both currencies, one side each.
    checks = S.attempt_rows(spark, paths, S.CLOSE_CHECKS, "first-0").where(
        "check_id = 'R11' AND status = 'failed'"
    )
    mismatch = next(p for p in flake.world.planted if p.kind == "currency_mismatch")
    charge = next(
        e["data"]["object"]
        for e in flake.world.stripe_events
        if e["type"] == "charge.succeeded" and e["data"]["object"]["id"] == mismatch.processor_ref
    )
    assert {r.currency: r.diff_minor for r in checks.collect()} == {
        "usd": 1,
        mismatch.currency: charge["amount"],
        charge["currency"]: -charge["amount"],
    }


def test_a_clean_day_publishes_and_a_late_night_capture_belongs_to_its_business_day(spark, flake, paths):
    outcome = close_day(spark, paths, flake.request(2, attempt_id="first-2"))
    assert (outcome.state, outcome.blocking_open, outcome.checks_failed) == ("published", 0, 0)
    late = next(p for p in flake.world.planted if p.kind == "late_night_capture")
    match = S.published(spark, paths, "mart_ledger_processor_match").where(
        F.col("entity_id") == late.entity_id
    )
    (row,) = match.collect()
    assert (row.match_status, row.ledger_close_date, row.close_date) == (
        "matched",
        flake.day(2),
        flake.day(2),
    )
    payment = next(p for p in flake.world.ledger["payment"] if p["payment_id"] == late.entity_id)
    assert payment["captured_at"].astimezone(UTC).date() == flake.day(3)  # the next UTC date
    revenue = (
        S.published(spark, paths, "mart_revenue_daily").groupBy("currency").agg(F.sum("gross_sales_minor"))
    )
    start, end = flake.world.window_utc(flake.day(2))
    expected = {}
    for p in flake.world.ledger["payment"]:
        if start <= p["captured_at"] < end:
            expected[p["currency"]] = expected.get(p["currency"], 0) + p["amount_minor"]
    assert dict(revenue.collect()) == expected
    assert S.latest_published_close(spark, flake.root).publication_id == outcome.close_run_id
    lines, published = close_status_lines(spark, paths, flake.day(2))
    assert published and lines[0].startswith(f"close {flake.day(2)} (close-{flake.day(2)}-v1): PUBLISHED")


def test_a_failed_close_publishes_once_its_exceptions_are_resolved_with_a_reason(spark, flake, paths):
    day = flake.day(0)
    with pytest.raises(S.CloseStateError, match="has no R9 exception for pay_nope"):
        S.resolve(spark, paths, day, "R9", "pay_nope", reason="x", resolved_by="ana")
    with pytest.raises(S.CloseStateError, match="needs a reason"):
        S.resolve(spark, paths, day, "R9", "pay_000001", reason=" ", resolved_by="ana")
    for check, entity, _, _ in _planted(flake.world, day):
        S.resolve(
            spark, paths, day, check, entity, reason="ledger corrected on 2026-11-02", resolved_by="ana"
        )
    outcome = close_day(spark, paths, flake.request(0, attempt_id="second-0"))
    assert outcome.state == "published"
    exceptions = S.published(spark, paths, "recon_exception").where(F.col("close_date") == day)
    assert {
        (r.entity_id, r.status, r.resolved_by) for r in exceptions.where("status <> 'allowed'").collect()
    } == {(entity, "resolved", "ana") for _, entity, _, _ in _planted(flake.world, day)}
    summary = S.published(spark, paths, "mart_recon_summary").where(F.col("close_date") == day)
    statuses = {(r.check_id, r.currency): r.status for r in summary.where("status <> 'passed'").collect()}
    assert (
        set(statuses.values()) == {"explained"} and ("R9", "usd") in statuses and ("R11", "usd") in statuses
    )


def test_restating_a_day_publishes_the_next_version_and_keeps_the_first_readable(spark, flake, paths):
    with pytest.raises(CloseError, match="has not been published, so there is nothing to restate"):
        close_day(spark, paths, flake.request(1, attempt_id="restate-1", restate=True))
    again = close_day(spark, paths, flake.request(2, attempt_id="again-2"))
    assert (again.state, again.reason, again.close_version) == ("published", "already published", 1)
    restated = close_day(spark, paths, flake.request(2, attempt_id="restate-2", restate=True))
    assert (restated.state, restated.close_run_id) == ("published", f"close-{flake.day(2)}-v2")
    view = S.close_run_view(spark, paths).where(F.col("close_date") == flake.day(2))
    assert {(r.close_version, r.state) for r in view.collect()} >= {(1, "restated"), (2, "published")}
    published = S.published(spark, paths, "mart_ledger_processor_match").where(
        F.col("close_date") == flake.day(2)
    )
    assert {r.close_version for r in published.collect()} == {2}
    every = spark.read.format("delta").load(paths.gold("mart_ledger_processor_match"))
    v1 = every.where(F.col("close_run_id") == f"close-{flake.day(2)}-v1").drop(*MART_COLUMNS_WITHOUT_RUN)
    assert v1.exceptAll(published.drop(*MART_COLUMNS_WITHOUT_RUN)).count() == 0


class Crash(RuntimeError):
    pass


@pytest.mark.parametrize(
    "boundary",
    [("published", "mart_recon_summary"), ("published", "*")],
)
def test_a_crash_between_steps_leaves_the_published_close_and_the_rerun_completes_it_once(
    spark, flake, paths, boundary
):
    day = flake.day(2)
    before = {
        r.close_version
        for r in S.published(spark, paths, "mart_recon_summary").where(F.col("close_date") == day).collect()
    }

    def hook(step, name):
        if (step, name) == boundary:
            raise Crash(f"killed at {step} {name}")

    tag = "-".join(boundary).replace("*", "all")
    with pytest.raises(Crash):
        close_day(spark, paths, flake.request(2, attempt_id=f"crash-{tag}", restate=True), step_hook=hook)
    seen = {
        r.close_version
        for r in S.published(spark, paths, "mart_recon_summary").where(F.col("close_date") == day).collect()
    }
    published_state = boundary == ("published", "*")
    assert len(seen) == 1 and (seen == before) != published_state
    if published_state:
        rerun = close_day(spark, paths, flake.request(2, attempt_id=f"rerun-{tag}"))
        assert rerun.reason == "already published"
    else:
        rerun = close_day(spark, paths, flake.request(2, attempt_id=f"rerun-{tag}", restate=True))
        assert rerun.close_version == max(before) + 1
    after = S.published(spark, paths, "mart_ledger_processor_match").where(F.col("close_date") == day)
    assert after.select("close_version").distinct().count() == 1
    assert after.count() == after.select("entity_id").distinct().count()
    assert {r.match_status for r in after.collect()} == {"matched"}


def test_the_jdbc_ledger_and_its_snapshot_give_the_same_close(spark, flake, paths, postgres, ledger_db):
    import psycopg

    with psycopg.connect(ledger_db) as conn:
        migrate(conn)
        load_ledger(conn, flake.world)
    database = ledger_db.rsplit("dbname=", 1)[1]
    jdbc = LedgerJdbc(postgres.jdbc_url(database), user=postgres.user)
    snapshot_rows = _close_rows(spark, paths, flake.day(2))
    outcome = close_day(
        spark,
        paths,
        flake.request(
            2, attempt_id="jdbc-2", restate=True, ledger=LedgerSource("jdbc", flake.exports, jdbc=jdbc)
        ),
    )
    assert outcome.state == "published"
    attempt = S.latest_attempt(spark, paths, flake.day(2))
    assert attempt["ledger_source"] == "jdbc" and attempt["ledger_export_id"].startswith(outcome.close_run_id)
    assert _close_rows(spark, paths, flake.day(2)) == snapshot_rows
    assert (
        datetime.now(UTC).replace(tzinfo=None) >= attempt["ledger_snapshot_time"] >= attempt["cutoff_utc_end"]
    )


def _close_rows(spark, paths, day):
    out = {}
    for mart in (
        "mart_ledger_processor_match",
        "mart_recon_summary",
        "mart_revenue_daily",
        "mart_tax_liability_daily",
    ):
        frame = (
            S.published(spark, paths, mart).where(F.col("close_date") == day).drop(*MART_COLUMNS_WITHOUT_RUN)
        )
        out[mart] = sorted(tuple(r) for r in frame.collect())
    rows = S.published(spark, paths, "recon_exception").where(F.col("close_date") == day)
    out["recon_exception"] = sorted(
        (r.check_id, r.entity_id, r.diff_minor) for r in rows.where("check_id <> 'R20'").collect()
    )
    return out
