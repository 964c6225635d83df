"""Run inside the gbstats 0.8.0 virtualenv: JSON cases on stdin, gbstats' results on stdout.

Each case: {"kind": mean|proportion|ratio|cuped, "a": {...sums}, "b": {...}, "relative": bool,
"sequential": bool, "alpha": float, "tuning_n": float}; or {"kind": "srm", "users", "weights"}.
"""

import json
import sys

from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.utils import check_srm


def statistic(kind, s):
    if kind == "mean":
        return SampleMeanStatistic(n=s["n"], sum=s["sum"], sum_squares=s["sum_squares"])
    if kind == "proportion":
        return ProportionStatistic(n=s["n"], sum=s["sum"])
    if kind == "ratio":
        return RatioStatistic(
            n=s["n"],
            m_statistic=SampleMeanStatistic(n=s["n"], sum=s["m_sum"], sum_squares=s["m_sum_squares"]),
            d_statistic=SampleMeanStatistic(n=s["n"], sum=s["d_sum"], sum_squares=s["d_sum_squares"]),
            m_d_sum_of_products=s["md_sum"],
        )
    return RegressionAdjustedStatistic(
        n=s["n"],
        post_statistic=SampleMeanStatistic(n=s["n"], sum=s["sum"], sum_squares=s["sum_squares"]),
        pre_statistic=SampleMeanStatistic(n=s["n"], sum=s["x_sum"], sum_squares=s["x_sum_squares"]),
        post_pre_sum_of_products=s["xy_sum"],
        theta=0,
    )


def run(case):
    if case["kind"] == "srm":
        return {"p_value": float(check_srm(case["users"], case["weights"]))}
    a, b = statistic(case["kind"], case["a"]), statistic(case["kind"], case["b"])
    difference_type = "relative" if case["relative"] else "absolute"
    if case["sequential"]:
        config = SequentialConfig(
            alpha=case["alpha"], difference_type=difference_type, sequential_tuning_parameter=case["tuning_n"]
        )
        result = SequentialTwoSidedTTest(a, b, config).compute_result()
    else:
        result = TwoSidedTTest(
            a, b, FrequentistConfig(alpha=case["alpha"], difference_type=difference_type)
        ).compute_result()
    return {
        "estimate": float(result.expected),
        "ci_low": float(result.ci[0]),
        "ci_high": float(result.ci[1]),
        "p_value": float(result.p_value),
        "error": result.error_message,
    }


if __name__ == "__main__":
    json.dump([run(c) for c in json.load(sys.stdin)], sys.stdout)
