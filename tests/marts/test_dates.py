"""Offsets drive both what a change touches and what a rebuild reads."""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from lakehouse.marts import dates as D


def d(day: int, month: int = 3) -> date:
    return date(2025, month, day)


def test_a_wau_change_touches_the_next_seven_days_and_a_rebuild_reads_the_previous_seven():
    assert D.touched_by({d(2)}, (-6, 0)) == set(D.days(d(2), d(8)))
    assert D.read_window([d(8)], (-6, 0)) == [(d(2), d(8))]


def test_a_funnel_change_touches_the_entry_dates_before_it():
    assert D.touched_by({d(10)}, (0, 7)) == set(D.days(d(3), d(10)))


def test_week_grain_snaps_to_mondays_and_reads_the_whole_week():
    assert D.snap({d(5), d(9), d(10)}, "week") == {d(3), d(10)}  # 2025-03-03 and 03-10 are Mondays
    assert D.read_window([d(3)], (0, 0), "week") == [(d(3), d(9))]


def test_ranges_and_the_replace_where_predicate():
    assert D.as_ranges([d(5), d(1), d(2), d(3)]) == [(d(1), d(3)), (d(5), d(5))]
    assert D.replace_where("date", [d(1), d(2), d(5)]) == (
        "(`date` >= DATE'2025-03-01' AND `date` <= DATE'2025-03-02') OR `date` = DATE'2025-03-05'"
    )
    assert D.replace_where("date", []) == "false"
    assert D.clamp({d(1), d(9)}, (d(2), d(9))) == {d(9)}


@given(
    st.sets(st.dates(date(2024, 1, 1), date(2026, 1, 1)), max_size=20),
    st.integers(-30, 0),
    st.integers(0, 30),
)
def test_touched_and_read_are_inverse(changed, lo, hi):
    """Every mart date a change touches reads the changed date, and no other date does."""
    touched = D.touched_by(changed, (lo, hi))
    for target in touched:
        assert D.from_ranges(D.read_window([target], (lo, hi))) & changed
    assert D.from_ranges(D.as_ranges(touched)) == touched
