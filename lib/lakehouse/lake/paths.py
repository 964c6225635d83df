"""Paths of the storage contract under one root URI (the README, "Architecture in a few lines").

Example::

    paths = LakePaths("s3://acme-lake")
    paths.silver("events")        # 's3://acme-lake/silver/events'
    paths.system("run_log")       # 's3://acme-lake/_system/run_log'
"""

from __future__ import annotations

from dataclasses import dataclass

BRONZE_CHANNELS = (
    "collect",
    "eventbridge",
    "webhooks/stripe",
    "webhooks/tax",
    "webhooks/esign",
    "webhooks/ses",
)


@dataclass(frozen=True)
class LakePaths:
    root: str

    def _join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def bronze(self, channel: str | None = None) -> str:
        return self._join("bronze", channel) if channel else self._join("bronze")

    def quarantine(self, name: str = "records") -> str:
        return self._join("quarantine", name)

    def silver(self, table: str) -> str:
        return self._join("silver", table)

    def gold(self, table: str) -> str:
        return self._join("gold", table)

    def system(self, name: str) -> str:
        return self._join("_system", name)

    def checkpoint(self, job: str, name: str) -> str:
        return self._join("_system", "checkpoints", job, name)
