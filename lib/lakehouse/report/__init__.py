"""The offline HTML report of a lake: ``<lake_root>/report/index.html``.

Rebuilt from the Gold and ``_system`` tables alone by ``lakehouse report --lake-root PATH``
(and at the end of ``lakehouse demo``). Charts are Vega-Lite specifications rendered to SVG
on this machine by vl-convert (:mod:`lakehouse.report.charts`), so the page needs no
script, no CDN and no network. Sections are listed in :mod:`lakehouse.report.sections`.
"""

from lakehouse.report.build import build_report

__all__ = ["build_report"]
