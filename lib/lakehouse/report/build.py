"""Assemble the report: every section's charts rendered to inline SVG, one HTML file.

Example::

    path = build_report(spark, "/abs/.lake")   # /abs/.lake/report/index.html
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lakehouse.report import charts
from lakehouse.report.model import ReportContext, Section
from lakehouse.report.sections import SECTIONS

log = logging.getLogger(__name__)

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #212121; background: #fafafa; }
header { background: #263238; color: #fff; padding: 16px 32px; }
header h1 { margin: 0 0 4px; font-size: 20px; }
header p { margin: 0; color: #cfd8dc; }
nav { padding: 8px 32px; background: #eceff1; }
nav a { margin-right: 16px; color: #37474f; text-decoration: none; }
main { padding: 8px 32px 32px; max-width: 1280px; }
section { background: #fff; border: 1px solid #e0e0e0; border-radius: 6px; margin: 16px 0;
  padding: 8px 20px 16px; }
section h2 { font-size: 17px; border-left: 6px solid #2e7d32; padding-left: 10px; }
section.warn h2 { border-color: #f9a825; }
section.fail h2 { border-color: #c62828; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
figure.chart { margin: 0; }
figure.chart figcaption { font-size: 12px; color: #616161; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
th, td { border-bottom: 1px solid #eee; padding: 3px 10px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
p.note { color: #616161; font-style: italic; }
"""


def _cell(value: Any) -> str:
    if value is None:
        return "<td></td>"
    if isinstance(value, bool):
        return f"<td>{'yes' if value else 'no'}</td>"
    if isinstance(value, int):
        return f'<td class="num">{value:,}</td>'
    if isinstance(value, float):
        return f'<td class="num">{value:,.2f}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def render_section(section: Section) -> str:
    parts = [f'<section id="{section.key}" class="{section.status}" data-status="{section.status}">']
    parts.append(f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.summary)}</p>")
    if section.charts:
        parts.append('<div class="charts">')
        for i, chart in enumerate(section.charts):
            svg = charts.to_svg(chart.spec)
            parts.append(
                f'<figure class="chart" id="{section.key}-chart-{i}" data-title="{html.escape(chart.title)}">'
                f"{svg}<figcaption>{html.escape(chart.title)}</figcaption></figure>"
            )
        parts.append("</div>")
    for table in section.tables:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
        body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in table.rows)
        parts.append(
            f"<table><caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>"
        )
    parts.extend(f'<p class="note">{html.escape(note)}</p>' for note in section.notes)
    parts.append("</section>")
    return "".join(parts)


def render_page(
    lake_root: str,
    sections: list[Section],
    missing: list[str],
    now: datetime,
    *,
    title: str = "Lakehouse report",
) -> str:
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    body = "".join(render_section(s) for s in sections)
    if missing:
        body += (
            '<p class="note">Not in this lake yet (their tables do not exist): '
            + html.escape(", ".join(missing))
            + ".</p>"
        )
    return (
        "<!DOCTYPE html>"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(lake_root)} · built {now:%Y-%m-%d %H:%M} UTC "
        "from the Gold and _system tables</p></header>"
        f"<nav>{nav}</nav><main>{body}</main></body></html>"
    )


def build_report(spark, lake_root: str, *, database_prefix: str = "") -> Path:
    """Write ``<lake_root>/report/index.html`` from the lake's tables; returns its path."""
    ctx = ReportContext(spark=spark, lake_root=lake_root, database_prefix=database_prefix)
    built: list[Section] = []
    missing: list[str] = []
    for module in SECTIONS:
        section = module.build(ctx)
        if section is None:
            missing.append(module.__name__.rsplit(".", 1)[-1])
        else:
            built.append(section)
    now = datetime.now(UTC)
    target = Path(lake_root.removeprefix("file://")) / "report" / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_page(lake_root, built, missing, now), encoding="utf-8")
    log.info("report written", extra={"path": str(target), "sections": [s.key for s in built]})
    return target
