"""A lake with the synthetic finance world: its Stripe webhooks through the real bronze_to_silver
job, and its ledger as an Aurora-export-style snapshot (shared by the close tests of a module)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from lakehouse.finance.close import CloseRequest, LedgerSource
from lakehouse.synthetic.finance import (
    FinanceSpec,
    FinanceWorld,
    generate_finance,
    write_ledger_snapshot,
    write_stripe_bronze,
)

SPEC = FinanceSpec(bookings_per_day=6)


@dataclass
class FinanceLake:
    root: str
    world: FinanceWorld

    @property
    def exports(self) -> str:
        return f"{self.root}/ledger/exports"

    def day(self, n: int) -> date:
        return self.world.spec.first_date + timedelta(days=n)

    def request(self, n: int, **kw) -> CloseRequest:
        kw.setdefault("ledger", LedgerSource("snapshot", self.exports))
        return CloseRequest(close_date=self.day(n), business_tz=self.world.spec.business_tz, **kw)


def build_finance_lake(spark, root: str, spec: FinanceSpec = SPEC) -> FinanceLake:
    from lakehouse.jobs.bronze_to_silver import Config, run

    world = generate_finance(spec)
    write_stripe_bronze(root, world)
    run(spark, Config(JOB_NAME="bronze_to_silver", lake_root=root, run_id="finance-silver"))
    lake = FinanceLake(root, world)
    write_ledger_snapshot(spark, lake.exports, world)
    return lake
