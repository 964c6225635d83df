"""Results of one experiment snapshot from its sufficient statistics (pure Python, no Spark)."""

from datetime import date
from decimal import Decimal

from lakehouse.experiments.registry import load_registry
from lakehouse.gold.experiments import snapshot_results

KEY = "search-ranking-v2"


def stats_row(metric_key: str, variation: str, units: int, conversions: int) -> dict:
    d = Decimal
    return {
        "experiment_key": KEY, "phase": 0, "variation": variation, "metric_key": metric_key,
        "currency": "", "as_of_date": date(2026, 11, 20), "units": units,
        "sum_y": d(conversions), "sum_y2": d(conversions), "sum_d": d(units), "sum_d2": d(units),
        "sum_yd": d(conversions), "sum_x": d(0), "sum_x2": d(0), "sum_xy": d(0),
        "sum_y_uncapped": d(conversions), "sum_y2_uncapped": d(conversions), "cap_value": None,
    }  # fmt: skip


def test_a_metric_whose_treatment_has_no_units_is_an_error_row_not_a_failed_snapshot():
    registry = load_registry()
    stats = [
        stats_row("booking_conversion_7d", v, 1000, n) for v, n in (("control", 100), ("treatment", 110))
    ]
    stats.append(stats_row("refund_rate", "control", 1000, 5))  # no treatment row: no refunds measured yet
    rows = snapshot_results(registry, stats)
    by_metric = {r["metric_key"]: r for r in rows}
    assert by_metric["refund_rate"]["error"] == "a variation has no analysed units"
    assert by_metric["refund_rate"]["guardrail_status"] is None
    assert by_metric["booking_conversion_7d"]["error"] is None
    assert {(r["status"], r["decision"]) for r in rows} == {("ok", "keep_running")}
