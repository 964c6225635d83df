"""The offline HTML report of a lake: ``<lake_root>/report/index.html``."""

from lakehouse.report.build import build_report

__all__ = ["build_report"]
