"""Date arithmetic of incremental marts: what a change touches, what a rebuild reads.

One offset pair per input states both directions (Dagster's time-window partition
mappings work the same way): mart date d reads input dates ``d+lo .. d+hi``, so a
change on input date x touches mart dates ``x-hi .. x-lo``.

Example::

    touched_by({date(2025, 3, 2)}, (-6, 0))            # WAU: 03-02 .. 03-08
    read_window([date(2025, 3, 8)], (-6, 0))            # [(03-02, 03-08)]
    as_ranges([date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 5)])
    # [(03-01, 03-02), (03-05, 03-05)]
    replace_where("date", [date(2025, 3, 1), date(2025, 3, 2)])
    # "(`date` >= DATE'2025-03-01' AND `date` <= DATE'2025-03-02')"
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

DateRange = tuple[date, date]


def days(start: date, end: date) -> list[date]:
    """Every date from ``start`` to ``end``, both included."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def week_start(d: date) -> date:
    """The Monday of ``d``'s ISO week."""
    return d - timedelta(days=d.weekday())


def snap(dates: Iterable[date], grain: str) -> set[date]:
    """Dates mapped onto a mart's date grain (``day`` or ``week``: the Monday)."""
    return {week_start(d) for d in dates} if grain == "week" else set(dates)


def touched_by(changed: Iterable[date], offsets: tuple[int, int]) -> set[date]:
    """Mart dates whose rows depend on any of the ``changed`` input dates."""
    lo, hi = offsets
    out: set[date] = set()
    for x in changed:
        out.update(x + timedelta(days=k) for k in range(-hi, -lo + 1))
    return out


def read_window(targets: Iterable[date], offsets: tuple[int, int], grain: str = "day") -> list[DateRange]:
    """Input date ranges a rebuild of ``targets`` reads (a week target reads its 7 days)."""
    lo, hi = offsets
    span = 6 if grain == "week" else 0
    needed: set[date] = set()
    for d in targets:
        needed.update(days(d + timedelta(days=lo), d + timedelta(days=hi + span)))
    return as_ranges(needed)


def clamp(dates: Iterable[date], horizon: DateRange | None) -> set[date]:
    """Dates inside ``horizon`` (inclusive); all of them when there is none."""
    if horizon is None:
        return set(dates)
    return {d for d in dates if horizon[0] <= d <= horizon[1]}


def as_ranges(dates: Iterable[date]) -> list[DateRange]:
    """Sorted dates collapsed into inclusive consecutive ranges."""
    ranges: list[DateRange] = []
    for d in sorted(set(dates)):
        if ranges and d == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], d)
        else:
            ranges.append((d, d))
    return ranges


def from_ranges(ranges: Iterable[DateRange]) -> set[date]:
    out: set[date] = set()
    for start, end in ranges:
        out.update(days(start, end))
    return out


def range_predicate(column: str, ranges: Iterable[DateRange]) -> str:
    """SQL predicate true for ``column`` inside any of ``ranges`` (``false`` when there are none)."""
    parts = [
        f"`{column}` = DATE'{a}'" if a == b else f"(`{column}` >= DATE'{a}' AND `{column}` <= DATE'{b}')"
        for a, b in ranges
    ]
    return " OR ".join(parts) if parts else "false"


def replace_where(column: str, dates: Iterable[date]) -> str:
    """The ``replaceWhere`` predicate of exactly ``dates`` (collapsed into ranges)."""
    return range_predicate(column, as_ranges(dates))
