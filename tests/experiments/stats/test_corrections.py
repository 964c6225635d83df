"""Holm and Benjamini-Hochberg against statsmodels-free hand examples and their defining properties."""

import itertools
import random

import pytest
from lakehouse.experiments.stats import adjust_p_values, benjamini_hochberg, holm


def test_holm_by_hand():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.001]) == pytest.approx([0.5, 0.002])
    assert holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])


def test_bh_by_hand():
    assert benjamini_hochberg([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.04, 0.04])
    assert benjamini_hochberg([0.01, 0.02, 0.03, 0.5]) == pytest.approx([0.04, 0.04, 0.04, 0.5])


def test_properties_on_random_families():
    rng = random.Random(7)
    for _ in range(200):
        p = [rng.random() ** 2 for _ in range(rng.randint(1, 12))]
        h, b = holm(p), benjamini_hochberg(p)
        order = sorted(range(len(p)), key=lambda i: p[i])
        for x, y in itertools.pairwise(order):
            assert h[x] <= h[y] and b[x] <= b[y]  # monotone in the raw p
        eps = 1e-12  # m·p/m may round a hair above p
        assert all(pi <= bi + eps and bi <= hi + eps and hi <= 1 for pi, bi, hi in zip(p, b, h, strict=True))
        assert h[order[0]] == pytest.approx(min(1, len(p) * p[order[0]]))  # Bonferroni for the smallest


def test_dispatch_and_empty():
    assert adjust_p_values([0.02, 0.04], "none") == [0.02, 0.04]
    assert adjust_p_values([], "holm") == [] and adjust_p_values([], "benjamini_hochberg") == []
    with pytest.raises(ValueError, match="correction must be one of"):
        adjust_p_values([0.1], "bonferroni")
