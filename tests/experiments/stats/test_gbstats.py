"""The statistics agree with gbstats 0.8.0 itself on the same sufficient statistics (1e-6 relative).

gbstats needs pandas < 2, so it runs in its own virtualenv (``make gbstats``), called
through ``gbstats_reference.py``; seeded random sums cover every statistic kind, both
effect scales, fixed-horizon and sequential tests and SRM.
"""

import json
import random
import subprocess
from pathlib import Path

import pytest
from lakehouse.experiments.stats import (
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    cuped_pair,
    fixed_horizon,
    sequential,
    srm_p_value,
)

REPO = Path(__file__).resolve().parents[3]
GBSTATS_PYTHON = REPO / ".venv-gbstats" / "bin" / "python"


def sums(rng, kind, n):
    """Sums of n simulated units (so variances are positive and consistent)."""
    lift = rng.uniform(0.9, 1.1)
    if kind == "proportion":
        p = rng.uniform(0.02, 0.6) * lift
        return {"n": n, "sum": sum(rng.random() < p for _ in range(n))}
    ys, xs, ds = [], [], []
    for _ in range(n):
        x = rng.expovariate(1 / 10)
        ys.append(max(0.0, 0.7 * x * lift + rng.gauss(3, 4)))
        xs.append(x)
        ds.append(1 + rng.randrange(4))
    out = {"n": n, "sum": sum(ys), "sum_squares": sum(y * y for y in ys)}
    if kind == "cuped":
        out |= {
            "x_sum": sum(xs),
            "x_sum_squares": sum(x * x for x in xs),
            "xy_sum": sum(x * y for x, y in zip(xs, ys, strict=True)),
        }
    if kind == "ratio":
        out = {
            "n": n,
            "m_sum": out["sum"],
            "m_sum_squares": out["sum_squares"],
            "d_sum": sum(ds),
            "d_sum_squares": sum(d * d for d in ds),
            "md_sum": sum(y * d for y, d in zip(ys, ds, strict=True)),
        }
    return out


def ours(kind, s):
    if kind == "mean":
        return SampleMean(s["n"], s["sum"], s["sum_squares"])
    if kind == "proportion":
        return Proportion(s["n"], s["sum"])
    if kind == "ratio":
        return Ratio(
            s["n"],
            SampleMean(s["n"], s["m_sum"], s["m_sum_squares"]),
            SampleMean(s["n"], s["d_sum"], s["d_sum_squares"]),
            s["md_sum"],
        )
    return RegressionAdjusted(
        s["n"],
        SampleMean(s["n"], s["sum"], s["sum_squares"]),
        SampleMean(s["n"], s["x_sum"], s["x_sum_squares"]),
        s["xy_sum"],
    )


def cases():
    rng = random.Random(15)
    out = []
    for kind in ("mean", "proportion", "ratio", "cuped"):
        for _ in range(6):
            a, b = sums(rng, kind, rng.randint(150, 600)), sums(rng, kind, rng.randint(150, 600))
            for relative in (True, False):
                for is_sequential in (False, True):
                    out.append(
                        {
                            "kind": kind,
                            "a": a,
                            "b": b,
                            "relative": relative,
                            "sequential": is_sequential,
                            "alpha": rng.choice([0.05, 0.1, 0.01]),
                            "tuning_n": rng.choice([1000.0, 5000.0, 20000.0]),
                        }
                    )
    for k in (2, 3, 4):
        weights = [rng.uniform(0.5, 2) for _ in range(k)]
        total = sum(weights)
        out.append(
            {
                "kind": "srm",
                "users": [rng.randint(900, 1100) for _ in range(k)],
                "weights": [w / total for w in weights],
            }
        )
    return out


def compute(case):
    if case["kind"] == "srm":
        return {"p_value": srm_p_value(case["users"], case["weights"])}
    a, b = ours(case["kind"], case["a"]), ours(case["kind"], case["b"])
    if case["kind"] == "cuped":
        a, b = cuped_pair(a, b)
    if case["sequential"]:
        effect = sequential(a, b, relative=case["relative"], alpha=case["alpha"], tuning_n=case["tuning_n"])
    else:
        effect = fixed_horizon(a, b, relative=case["relative"], alpha=case["alpha"])
    return {
        "estimate": effect.estimate,
        "ci_low": effect.ci_low,
        "ci_high": effect.ci_high,
        "p_value": effect.p_value,
        "error": effect.error,
    }


@pytest.mark.skipif(not GBSTATS_PYTHON.exists(), reason="gbstats virtualenv missing: run `make gbstats`")
def test_agrees_with_gbstats_0_8_0():
    all_cases = cases()
    done = subprocess.run(
        [str(GBSTATS_PYTHON), str(Path(__file__).with_name("gbstats_reference.py"))],
        input=json.dumps(all_cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    theirs = json.loads(done.stdout)
    assert len(theirs) == len(all_cases) == 99
    for case, expected in zip(all_cases, theirs, strict=True):
        got = compute(case)
        label = {k: case[k] for k in ("kind", "relative", "sequential", "alpha") if k in case}
        if expected.get("error"):
            assert got["error"] is not None and got["p_value"] == 1.0, label
            continue
        for field, value in expected.items():
            if field != "error":
                assert got[field] == pytest.approx(value, rel=1e-6, abs=1e-12), (label, field)
    assert sum(1 for e in theirs if e.get("error")) == 0  # every case was a real comparison
