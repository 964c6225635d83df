"""The downstream mechanism shared by every layer after Silver (Gold marts, experiment
marts, the finance close): audited reads, touched dates from change feeds, staged
rows audited by DQDL rules and exact reconciliations, one idempotent commit per mart,
and a ledger of what each mart consumed.

- :mod:`~lakehouse.marts.spec`: mart specs (YAML beside each DQDL ruleset);
- :mod:`~lakehouse.marts.dates`: offsets, touched dates, read windows, ``replaceWhere``;
- :mod:`~lakehouse.marts.changes`: change-feed reads with the full-rebuild fallback;
- :mod:`~lakehouse.marts.reconcile`: exact integer reconciliations;
- :mod:`~lakehouse.marts.publish`: stage, spec checks, publish, catalog registration;
- :mod:`~lakehouse.marts.ledger`: ``_system/mart_ledger``;
- :mod:`~lakehouse.marts.run`: :class:`MartRun` and :func:`run_marts`, the flow of a run.
"""

from lakehouse.marts.ledger import LedgerEntry, last_entries, read_ledger
from lakehouse.marts.publish import StagedTable, publish, register, spec_outcomes, stage
from lakehouse.marts.reconcile import ReconciliationResult, reconcile
from lakehouse.marts.run import BuildContext, MartPlan, MartRows, MartRun, RunOptions, run_marts
from lakehouse.marts.spec import (
    ColumnSpec,
    InputSpec,
    MartDefinitionError,
    MartSpec,
    ReconciliationSpec,
    load_spec,
    load_specs,
    parse_spec,
)

__all__ = [
    "BuildContext",
    "ColumnSpec",
    "InputSpec",
    "LedgerEntry",
    "MartDefinitionError",
    "MartPlan",
    "MartRows",
    "MartRun",
    "MartSpec",
    "ReconciliationResult",
    "ReconciliationSpec",
    "RunOptions",
    "StagedTable",
    "last_entries",
    "load_spec",
    "load_specs",
    "parse_spec",
    "publish",
    "read_ledger",
    "reconcile",
    "register",
    "run_marts",
    "spec_outcomes",
    "stage",
]
