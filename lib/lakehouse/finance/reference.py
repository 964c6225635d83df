"""The close's reference data: currency exponents (``config/currency_exponents.csv``, the
project's one currency table, lowercased as Stripe and the ledger write codes), and, under
``jobs/finance_close``, the reporting-category mapping and the catalogue of checks.

Example::

    ref = load_reference()
    ref.exponent["jpy"], ref.exponent["kwd"]      # 0, 3
    ref.finance_category["dispute_reversal"]      # 'disputes'
    ref.checks["R9"].severity                     # 'blocking'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.assets import asset_dir
from lakehouse.money import currency_exponents, exponent_frame

SEVERITIES = ("blocking", "warn")


class ReferenceDataError(ValueError):
    """A reference file of the close contradicts itself."""


@dataclass(frozen=True)
class Check:
    check_id: str
    title: str
    equation: str
    severity: str


@dataclass(frozen=True)
class Reference:
    exponent: dict[str, int]
    finance_category: dict[str, str]
    checks: dict[str, Check]

    def currencies(self, spark: SparkSession) -> DataFrame:
        """``currency, currency_exponent`` of every accepted currency (codes lowercase)."""
        return exponent_frame(spark).withColumn("currency", F.lower("currency"))

    def severity(self, check_id: str) -> str:
        return self.checks[check_id].severity


def close_dir() -> Path:
    return asset_dir("jobs") / "finance_close"


def _read(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{path}: expected a mapping")
    return data


@cache
def load_reference(folder: Path | None = None) -> Reference:
    folder = folder or close_dir()
    exponent = {code.lower(): digits for code, digits in currency_exponents().items()}
    category: dict[str, str] = {}
    for finance, reporting in _read(folder / "reference" / "reporting_categories.yaml").items():
        for name in reporting:
            if name in category:
                raise ReferenceDataError(
                    f"reporting_categories.yaml: {name} maps to {category[name]} and {finance}"
                )
            category[str(name)] = str(finance)
    checks = {}
    for check_id, raw in _read(folder / "checks.yaml").items():
        severity = str(raw["severity"])
        if severity not in SEVERITIES:
            raise ReferenceDataError(
                f"checks.yaml: {check_id} has severity {severity!r}; expected blocking or warn"
            )
        checks[str(check_id)] = Check(
            str(check_id), str(raw["title"]), " ".join(str(raw["equation"]).split()), severity
        )
    return Reference(exponent, category, checks)
