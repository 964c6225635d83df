"""The report's sections, in page order.

A section is a module with ``build(ctx: ReportContext) -> Section | None`` (None when the
tables it reads do not exist yet). To add one for a new area, write
``sections/<area>.py`` with its ``build`` reading the area's Gold tables through
``ctx.layer("gold", ...)`` (or ``ctx.system(...)``) and list it here; nothing else changes.
"""

from __future__ import annotations

from lakehouse.report.sections import (
    activity,
    bookings,
    experiments,
    finance,
    funnel,
    pipeline,
    quality,
    retention,
    silver,
    slo,
)

SECTIONS = (pipeline, slo, quality, silver, activity, funnel, retention, bookings, experiments, finance)
