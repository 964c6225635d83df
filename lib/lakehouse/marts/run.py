"""One run of a downstream job over its marts: plan, build, stage, audit, then publish.

:class:`MartRun` holds what a run shares: the run sequence (the ``txnVersion`` of every
commit), the inputs pinned at their audit watermark, the ledger, the staged marts and
every rule outcome. The flow of :func:`run_marts`::

    run = MartRun(spark, paths, job="silver_to_gold", run_id=..., specs=specs, options=...)
    for spec in specs:                      # dependency order
        plan = run.plan(spec)               # touched dates / keys from the change feeds
        if plan.needs_build:
            run.audit(run.build(plan))      # stage (persisted once), then every rule
    run.enforce()                           # a failed blocking rule: nothing is published
    run.publish_all()                       # one commit per mart, then audit log and ledger

A mart that reads another mart rebuilt in the same run sees that mart as it will be
once published (its staged rows over its published ones), and takes its touched dates
from the rows that change. Nothing is published until every staged mart passed.

A run killed after some commits is caught up by the next one: each commit carries its
ledger entry (``userMetadata``) and Delta transaction ``(<job>:<mart>, run_seq)``, so
the next run records what was committed and rebuilds the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.dq import DqContext, RuleOutcome, enforce, evaluate, load_ruleset, persist_outcomes
from lakehouse.lake import delta
from lakehouse.lake.audit import AuditEntry, UnauditedInputError, audited_versions, read_audited, record_audit
from lakehouse.lake.paths import LakePaths
from lakehouse.marts import dates as D
from lakehouse.marts.changes import ChangeSet, changed_dates, material_changes, read_changes
from lakehouse.marts.ledger import LedgerEntry, append_entries, ensure_ledger, entry_from_commit, last_entries
from lakehouse.marts.publish import StagedTable, mart_path, publish, register, spec_outcomes, stage
from lakehouse.marts.reconcile import reconcile
from lakehouse.marts.spec import InputSpec, MartDefinitionError, MartSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """What a job's config says about a run of its marts."""

    full_refresh: bool = False
    from_date: date | None = None
    to_date: date | None = None
    as_of: datetime | None = None  # "now" of the run (UTC); ops views and completeness use it
    params: Mapping[str, Any] = field(default_factory=dict)
    database: str = "gold"  # catalog database the marts are registered in
    marts: tuple[str, ...] = ()  # only these marts (and nothing else); empty: all

    def backfill(self) -> list[date]:
        if self.from_date is None and self.to_date is None:
            return []
        if self.from_date is None or self.to_date is None or self.from_date > self.to_date:
            raise MartDefinitionError("a backfill needs --from_date <= --to_date, both given")
        return D.days(self.from_date, self.to_date)


@dataclass(frozen=True)
class MartRows:
    """What a merge mart's build returns: its rows and the keys it recomputed (a key
    recomputed and absent from ``df`` is deleted)."""

    df: DataFrame
    rebuilt_keys: DataFrame | None = None


@dataclass
class PinnedInput:
    """An input as this run reads it. ``version`` is None when it does not exist (or has
    no audited version: ``missing`` says why)."""

    table: str
    version: int | None
    df: DataFrame | None
    staged: StagedTable | None = None  # a mart of this run: df is its post-publish view
    missing: str | None = None


@dataclass
class MartPlan:
    spec: MartSpec
    inputs: dict[str, PinnedInput]
    changes: dict[str, ChangeSet]
    full: bool = False
    reason: str = ""
    dates: tuple[date, ...] = ()
    horizon: D.DateRange | None = None
    moved: bool = False
    skipped: str | None = None

    @property
    def needs_build(self) -> bool:
        if self.skipped:
            return False
        if self.full:
            return True
        if self.spec.publish == "replace_dates":
            return bool(self.dates)
        return self.moved or bool(self.reason)


class BuildContext:
    """What a mart's build function may read: its pinned inputs, its target dates, params.

    Example::

        def active_users_daily(ctx: BuildContext) -> DataFrame:
            user_days = ctx.window("gold.fct_user_day_activity")    # only the dates needed
            spine = ctx.spark.createDataFrame([(d,) for d in ctx.dates], "date DATE")
            ...
    """

    def __init__(self, run: MartRun, plan: MartPlan):
        self.run = run
        self.plan = plan
        self.spark = run.spark
        self.spec = plan.spec

    @property
    def full(self) -> bool:
        return self.plan.full

    @property
    def dates(self) -> list[date]:
        """The mart dates to rebuild (every date of the horizon on a full rebuild)."""
        return list(self.plan.dates)

    @property
    def as_of(self) -> datetime:
        return self.run.as_of

    def param(self, name: str, default: Any = None) -> Any:
        if name in self.run.options.params:
            return self.run.options.params[name]
        if default is None:
            raise MartDefinitionError(f"{self.spec.name}: parameter {name!r} is not set")
        return default

    def optional_input(self, table: str) -> DataFrame | None:
        pinned = self.plan.inputs.get(table)
        if pinned is None:
            raise MartDefinitionError(f"{self.spec.name} reads {table} but does not declare it as an input")
        return pinned.df

    def input(self, table: str) -> DataFrame:
        """The whole input, as of its pinned version."""
        df = self.optional_input(table)
        if df is None:
            raise MartDefinitionError(f"{self.spec.name}: input {table} does not exist")
        return df

    def window(self, table: str) -> DataFrame:
        """The input rows a rebuild of the target dates reads (its ``read_column`` inside the
        window the input's offsets give); the whole input on a full rebuild."""
        df = self.input(table)
        spec_input = self.spec.input(table)
        if self.full or spec_input.read_column is None or self.spec.publish != "replace_dates":
            return df
        ranges = D.read_window(self.plan.dates, spec_input.offsets, self.spec.date_grain)
        return df.where(F.expr(D.range_predicate(spec_input.read_column, ranges)))

    def target(self, column: str) -> Column:
        """A predicate keeping rows on the target dates (always true on a full rebuild)."""
        if self.full:
            return F.lit(True)
        return F.expr(D.replace_where(column, self.plan.dates))

    def changes(self, table: str) -> DataFrame | None:
        """The input's changed rows since this mart last consumed it (None: unchanged)."""
        cs = self.plan.changes.get(table)
        return None if cs is None else cs.rows

    def changed_keys(self, table: str, *keys: str) -> DataFrame:
        """Distinct ``keys`` (column names or SQL expressions) of the input's changed rows,
        plus those of its rows inside a ``--from_date/--to_date`` backfill."""
        exprs = [F.expr(k).alias(k.split(".")[-1]) if not k.isidentifier() else F.col(k) for k in keys]
        parts = []
        rows = self.changes(table)
        if rows is not None:
            parts.append(rows.select(*exprs))
        backfill = self.run.options.backfill()
        read_column = self.spec.input(table).read_column
        if backfill and read_column:
            predicate = D.range_predicate(read_column, D.as_ranges(backfill))
            parts.append(self.input(table).where(F.expr(predicate)).select(*exprs))
        if not parts:
            return self.input(table).select(*exprs).limit(0)
        out = parts[0]
        for part in parts[1:]:
            out = out.unionByName(part)
        return out.where(" AND ".join(f"`{c}` IS NOT NULL" for c in out.columns)).distinct()


StepHook = Callable[[str, str], None]


class MartRun:
    """A run of one downstream job over a set of marts (see the module docstring)."""

    def __init__(
        self,
        spark: SparkSession,
        paths: LakePaths,
        *,
        job: str,
        run_id: str,
        specs: list[MartSpec],
        options: RunOptions | None = None,
        step_hook: StepHook | None = None,
    ):
        self.spark = spark
        self.paths = paths
        self.job = job
        self.run_id = run_id
        self.specs = {s.name: s for s in specs}
        self.options = options or RunOptions()
        self.as_of = (self.options.as_of or datetime.now(UTC)).replace(tzinfo=None)
        self.step_hook = step_hook
        self.plans: dict[str, MartPlan] = {}
        self.staged: dict[str, StagedTable] = {}
        self.outcomes: list[RuleOutcome] = []
        self.published: dict[str, int] = {}
        self._pinned: dict[str, PinnedInput] = {}
        self._registry = None  # the canon, loaded when a Silver input has not been written yet
        self._changes: dict[tuple[str, int | None, int], ChangeSet] = {}
        ensure_ledger(spark, paths)
        self.ledger = last_entries(spark, paths, job)
        self._audited = audited_versions(spark, paths)
        self.run_seq = self._recover()

    # ------------------------------------------------------------------------------ recovery

    def _step(self, step: str, mart: str) -> None:
        if self.step_hook is not None:
            self.step_hook(step, mart)

    def _recover(self) -> int:
        """Record commits a killed run made but did not get into the ledger; the next run_seq."""
        seqs = [e.run_seq for e in self.ledger.values()]
        audits = []
        for spec in self.specs.values():
            path = mart_path(self.paths, spec)
            applied = delta.applied_txn_version(self.spark, path, f"{self.job}:{spec.name}")
            if applied is None:
                continue
            seqs.append(applied)
            entry = self.ledger.get(spec.name)
            if entry is None or applied > entry.run_seq:
                recovered = entry_from_commit(self.spark, path, applied)
                if recovered is not None:
                    append_entries(self.spark, self.paths, [recovered])
                    self.ledger[spec.name] = recovered
                    entry = recovered
                    log.warning(
                        "recovered a commit of an interrupted run",
                        extra={"mart": spec.name, "run_seq": applied, "version": recovered.mart_version},
                    )
            version = entry.mart_version if entry is not None else None
            if entry is not None and version is not None and self._audited.get(spec.table_name, -1) < version:
                audits.append(AuditEntry(spec.table_name, version, "passed", entry.run_id, self.job))
        if audits:
            record_audit(self.spark, self.paths, audits)
            self._audited = audited_versions(self.spark, self.paths)
        return max(seqs, default=0) + 1

    # ------------------------------------------------------------------------------ inputs

    def _path(self, table: str) -> str:
        layer, name = table.split(".", 1)
        if layer == "quarantine":
            return self.paths.quarantine(name)
        if layer == "_system":
            return self.paths.system(name)
        return self.paths.silver(name) if layer == "silver" else self.paths.gold(name)

    def pin(self, spec_input: InputSpec) -> PinnedInput:
        """The input as this run reads it (pinned once per run)."""
        table = spec_input.table
        mart = table.split(".", 1)[1]
        if spec_input.layer == "gold" and mart in self.staged:
            return self._virtual(table, self.staged[mart])
        if table in self._pinned:
            return self._pinned[table]
        if spec_input.audited:
            try:
                audited = read_audited(self.spark, self.paths, table, watermarks=self._audited)
                pinned = PinnedInput(table, audited.version, audited.df)
            except UnauditedInputError as exc:
                empty = self._not_yet_written(spec_input)
                pinned = PinnedInput(table, None, empty, missing=None if empty is not None else str(exc))
        else:
            path = self._path(table)
            version = delta.current_version(self.spark, path)
            df = None
            if version is not None:
                df = self.spark.read.format("delta").option("versionAsOf", version).load(path)
            pinned = PinnedInput(table, version, df)
        self._pinned[table] = pinned
        return pinned

    def _not_yet_written(self, spec_input: InputSpec) -> DataFrame | None:
        """A Silver family table that does not exist yet (no event of its family so far): empty.

        A table that exists without an audited version is not this case: it stays missing.
        """
        if spec_input.layer != "silver" or delta.table_exists(self.spark, self._path(spec_input.table)):
            return None
        from lakehouse.contracts import ContractRegistry
        from lakehouse.silver.tables import empty_family_table

        if self._registry is None:
            self._registry = ContractRegistry.load()
        empty = empty_family_table(self.spark, self._registry, spec_input.table.split(".", 1)[1])
        if empty is not None:
            log.info("input not written yet: read as empty", extra={"input": spec_input.table})
        return empty

    def _published_rows(self, table: str) -> DataFrame | None:
        """The mart's rows as of its audit watermark (None before its first commit)."""
        try:
            return read_audited(self.spark, self.paths, table, watermarks=self._audited).df
        except UnauditedInputError:
            return None

    def _virtual(self, table: str, staged: StagedTable) -> PinnedInput:
        """An upstream mart of this run as it will be once published."""
        spec = staged.spec
        old = self._published_rows(table)
        if staged.full or old is None or spec.publish == "overwrite":
            view = staged.df
        elif spec.publish == "replace_dates":
            assert spec.date_column is not None
            view = old.where(f"NOT ({D.replace_where(spec.date_column, staged.dates)})").unionByName(
                staged.df
            )
        else:
            keys = staged.rebuilt_keys if staged.rebuilt_keys is not None else staged.df.select(*spec.keys)
            view = old.join(keys, list(spec.keys), "left_anti").unionByName(staged.df)
        return PinnedInput(table, None, view, staged=staged)

    def _virtual_changes(self, table: str, pinned: PinnedInput, since: int | None) -> ChangeSet:
        staged = pinned.staged
        assert staged is not None
        spec = staged.spec
        old = self._published_rows(table)
        if since is None:
            return ChangeSet(table, since, -1, full_reason=f"{table}: first build (nothing consumed yet)")
        if staged.full or old is None or spec.publish == "overwrite":
            return ChangeSet(table, since, -1, full_reason=f"{table} was rebuilt in full by this run")
        if spec.publish == "replace_dates":
            assert spec.date_column is not None
            before = old.where(D.replace_where(spec.date_column, staged.dates))
        else:
            keys = staged.rebuilt_keys if staged.rebuilt_keys is not None else staged.df.select(*spec.keys)
            before = old.join(keys, list(spec.keys), "left_semi")
        return ChangeSet(table, since, -1, rows=before.unionByName(staged.df))

    def _consumed(self, spec: MartSpec, table: str) -> int | None:
        entry = self.ledger.get(spec.name)
        if entry is None or entry.fingerprint != spec.fingerprint:
            return None
        return entry.input_versions.get(table)

    def changes(self, spec: MartSpec, spec_input: InputSpec, pinned: PinnedInput) -> ChangeSet:
        since = self._consumed(spec, spec_input.table)
        if pinned.staged is not None:
            return self._virtual_changes(spec_input.table, pinned, since)
        assert pinned.version is not None
        key = (spec_input.table, since, pinned.version)
        if key not in self._changes:
            self._changes[key] = read_changes(
                self.spark, self._path(spec_input.table), spec_input.table, since=since, upto=pinned.version
            )
        return self._changes[key]

    # ------------------------------------------------------------------------------ plan

    def _upstream_spec(self, spec: MartSpec, table: str) -> MartSpec:
        upstream = self.specs.get(table.split(".", 1)[1])
        if upstream is None:
            raise MartDefinitionError(f"{spec.name}: changed_when needs {table} among this job's marts")
        unknown = set(spec.input(table).changed_when) - {c.name for c in upstream.columns}
        if unknown:
            missing = sorted(unknown)
            raise MartDefinitionError(f"{spec.name}: changed_when names columns {table} lacks: {missing}")
        return upstream

    def _horizon(self, spec: MartSpec, inputs: dict[str, PinnedInput]) -> D.DateRange | None:
        """The dates the mart's horizon inputs span (the union when it names several)."""
        ranges = []
        for table, column in spec.horizon_sources:
            pinned = inputs.get(table)
            if pinned is None or pinned.df is None:
                continue
            (row,) = pinned.df.agg(F.min(column).alias("lo"), F.max(column).alias("hi")).collect()
            if row.lo is not None:
                ranges.append((row.lo, row.hi))
        if not ranges:
            return None
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        return (D.week_start(lo), hi) if spec.date_grain == "week" else (lo, hi)

    def plan(self, spec: MartSpec) -> MartPlan:
        """What this run must rebuild of ``spec``, from the ledger and the inputs' changes."""
        inputs = {i.table: self.pin(i) for i in spec.inputs}
        missing = [p.missing for p in inputs.values() if p.missing]
        plan = MartPlan(spec, inputs, {})
        if missing:
            plan.skipped = "; ".join(missing)
            log.info("mart skipped: input not audited yet", extra={"mart": spec.name, "reason": plan.skipped})
            self.plans[spec.name] = plan
            return plan
        entry = self.ledger.get(spec.name)
        reasons = []
        if self.options.full_refresh:
            reasons.append("full refresh requested")
        elif entry is None:
            reasons.append("first build")
        elif entry.fingerprint != spec.fingerprint:
            reasons.append("spec changed (new columns, inputs, offsets or version)")
        touched: set[date] = set()
        for spec_input in spec.inputs:
            pinned = inputs[spec_input.table]
            if pinned.df is None or (pinned.version is None and pinned.staged is None):
                continue  # absent, or not written yet (read as empty): nothing changed in it
            cs = self.changes(spec, spec_input, pinned)
            plan.changes[spec_input.table] = cs
            if not spec_input.trigger or not cs.moved:
                continue
            plan.moved = True
            if cs.full_reason:
                reasons.append(cs.full_reason)
            elif spec.publish == "replace_dates":
                if not spec_input.has_dates:
                    reasons.append(f"{spec_input.table} changed and has no date mapping")
                else:
                    rows = cs.rows
                    if rows is not None and spec_input.changed_when:
                        upstream = self._upstream_spec(spec, spec_input.table)
                        rows = material_changes(rows, upstream.keys, spec_input.changed_when)
                    changed = changed_dates(rows, dates=spec_input.dates, date_range=spec_input.date_range)
                    touched |= D.touched_by(changed, spec_input.offsets)
        plan.full = bool(reasons)
        plan.reason = "; ".join(dict.fromkeys(reasons))
        unchanged = entry is not None and not any(cs.moved for cs in plan.changes.values())
        if unchanged and not plan.full and not self.options.backfill():
            plan.horizon = entry.horizon  # no input moved: the span its rows cover is the same
        else:
            plan.horizon = self._horizon(spec, inputs)
        if spec.publish == "replace_dates":
            backfill = self.options.backfill()
            if plan.full:
                plan.dates = (
                    tuple(sorted(D.snap(D.days(*plan.horizon), spec.date_grain))) if plan.horizon else ()
                )
            else:
                if plan.horizon and entry is not None and entry.horizon:
                    grown = set(D.days(*plan.horizon)) - set(D.days(*entry.horizon))
                    touched |= grown
                touched |= set(backfill)
                plan.dates = tuple(sorted(D.clamp(D.snap(touched, spec.date_grain), plan.horizon)))
                if backfill:
                    plan.reason = f"backfill {self.options.from_date}..{self.options.to_date}"
        elif self.options.backfill() and not plan.full:
            plan.reason = f"backfill {self.options.from_date}..{self.options.to_date}"
        if plan.full and plan.reason:
            log.warning("mart rebuilt in full", extra={"mart": spec.name, "reason": plan.reason})
        log.info(
            "mart planned",
            extra={
                "mart": spec.name,
                "full": plan.full,
                "reason": plan.reason,
                "dates": [f"{a}..{b}" for a, b in D.as_ranges(plan.dates)],
                "moved": plan.moved,
            },
        )
        self.plans[spec.name] = plan
        return plan

    # ------------------------------------------------------------------------------ build, audit

    def build(self, plan: MartPlan) -> StagedTable:
        """Run the mart's build function on its plan and stage the rows."""
        spec = plan.spec
        result = spec.build_function()(BuildContext(self, plan))
        rows, keys = (result.df, result.rebuilt_keys) if isinstance(result, MartRows) else (result, None)
        staged = stage(spec, rows, full=plan.full, dates=plan.dates, rebuilt_keys=keys)
        self.staged[spec.name] = staged
        self._step("staged", spec.name)
        return staged

    def stage_rows(
        self,
        spec: MartSpec,
        rows: DataFrame,
        *,
        full: bool,
        dates: list[date] | tuple[date, ...] = (),
        rebuilt_keys: DataFrame | None = None,
        inputs: dict[str, PinnedInput] | None = None,
    ) -> StagedTable:
        """Stage rows a job computed itself (no plan): e.g. the marts of one close."""
        staged = stage(spec, rows, full=full, dates=dates, rebuilt_keys=rebuilt_keys)
        self.staged[spec.name] = staged
        self.plans[spec.name] = MartPlan(
            spec, inputs or {}, {}, full=full, reason="staged by the job", dates=tuple(dates), moved=True
        )
        self._step("staged", spec.name)
        return staged

    def audit(
        self, staged: StagedTable, *, views: Mapping[str, DataFrame] | None = None
    ) -> list[RuleOutcome]:
        """Every rule of a staged mart: the spec's promises, its DQDL ruleset (on non-empty
        rows: Deequ fails every rule on none) and its exact reconciliations."""
        spec = staged.spec
        outcomes = spec_outcomes(staged)
        if spec.ruleset is not None and staged.rows > 0:
            context = DqContext(self.paths.root, self.job, self.run_id, spec.table_name)
            outcomes += evaluate(self.spark, staged.df, load_ruleset(spec.ruleset), context, persist=False)
        if spec.reconciliations:
            self._register_views(staged, views or {})
            for rec in spec.reconciliations:
                result = reconcile(
                    rec.name,
                    actual=self.spark.sql(rec.actual),
                    expected=self.spark.sql(rec.expected),
                    keys=rec.keys,
                    severity=rec.severity,
                )
                outcomes.append(result.outcome(spec.table_name, f"{spec.name}.reconciliations"))
        staged.outcomes = outcomes
        self.outcomes += outcomes
        failed = [o.rule for o in outcomes if not o.passed]
        log.info(
            "mart audited",
            extra={"mart": spec.name, "rows": staged.rows, "rules": len(outcomes), "failed": failed},
        )
        self._step("audited", spec.name)
        return outcomes

    def _register_views(self, staged: StagedTable, views: Mapping[str, DataFrame]) -> None:
        """Temp views a reconciliation's SQL names: ``staged``, ``target_dates`` and each input."""
        spec = staged.spec
        staged.df.createOrReplaceTempView("staged")
        plan = self.plans.get(spec.name)
        target = list(staged.dates) if not staged.full else list(plan.dates if plan else ())
        self.spark.createDataFrame([(d,) for d in target], "date DATE").createOrReplaceTempView(
            "target_dates"
        )
        for spec_input in spec.inputs:
            pinned = plan.inputs.get(spec_input.table) if plan else None
            if pinned is not None and pinned.df is not None:
                pinned.df.createOrReplaceTempView(spec_input.view_name)
        for name, df in views.items():
            df.createOrReplaceTempView(name)

    def enforce(self) -> None:
        """Persist every outcome of the run (one commit); raise if a blocking rule failed."""
        if self.outcomes:
            context = DqContext(self.paths.root, self.job, self.run_id, f"{self.options.database}.*")
            persist_outcomes(self.spark, self.outcomes, context)
        enforce(self.outcomes)

    # ------------------------------------------------------------------------------ publish

    def _entry(self, plan: MartPlan, staged: StagedTable | None, version: int | None) -> LedgerEntry:
        versions = {}
        for table, pinned in plan.inputs.items():
            if pinned.staged is not None:
                versions[table] = self.published[pinned.staged.spec.name]
            elif pinned.version is not None:
                versions[table] = pinned.version
        return LedgerEntry(
            job=self.job,
            mart=plan.spec.name,
            run_seq=self.run_seq,
            run_id=self.run_id,
            fingerprint=plan.spec.fingerprint,
            input_versions=versions,
            full_rebuild=plan.full,
            reason=plan.reason or None,
            rebuilt=D.as_ranges(staged.dates if staged is not None else ()),
            horizon=plan.horizon,
            mart_version=version,
            rows_staged=staged.rows if staged is not None else 0,
        )

    def publish_all(self, *, after_commits: Callable[[dict[str, int]], None] | None = None) -> None:
        """Publish every staged mart (dependency order), then record audits and the ledger.

        ``after_commits`` (e.g. a close's publication record) runs once every mart is
        committed, before the audit log and ledger rows.
        """
        entries, audits = [], []
        for name, plan in self.plans.items():
            staged = self.staged.get(name)
            if staged is None:
                if plan.moved and not plan.skipped:  # inputs moved, nothing of the mart touched
                    entries.append(self._entry(plan, None, None))
                continue
            metadata = self._entry(plan, staged, None).to_json()
            version = publish(
                self.spark, self.paths, staged, job=self.job, run_seq=self.run_seq, metadata=metadata
            )
            self.published[name] = version
            self._step("published", name)
            entries.append(self._entry(plan, staged, version))
            scope = {"dates": [f"{a}..{b}" for a, b in D.as_ranges(staged.dates)], "full": staged.full}
            audits.append(
                AuditEntry(staged.spec.table_name, version, "passed", self.run_id, self.job, scope=scope)
            )
            register(self.spark, self.paths, staged.spec, self.options.database)
        if after_commits is not None:
            after_commits(dict(self.published))
        record_audit(self.spark, self.paths, audits)
        self._step("audit_recorded", "*")
        append_entries(self.spark, self.paths, entries, txn=(f"{self.job}:ledger", self.run_seq))
        self.ledger.update({entry.mart: entry for entry in entries})
        self._step("ledger_recorded", "*")

    def summary(self) -> dict[str, dict]:
        """Per mart: what the run did (for the run log's details)."""
        out = {}
        for name, plan in self.plans.items():
            staged = self.staged.get(name)
            if plan.skipped:
                status = "skipped"
            elif name in self.published:
                status = "published"
            elif plan.moved:
                status = "advanced"
            else:
                status = "unchanged"
            out[name] = {
                "status": status,
                "full": plan.full,
                "reason": plan.reason or plan.skipped or "",
                "dates": [f"{a}..{b}" for a, b in D.as_ranges(staged.dates if staged else ())],
                "rows": staged.rows if staged else 0,
                "version": self.published.get(name),
            }
        return out

    def release(self) -> None:
        for staged in self.staged.values():
            staged.release()
        for cs in self._changes.values():
            cs.release()


def run_marts(
    spark: SparkSession,
    paths: LakePaths,
    specs: list[MartSpec],
    *,
    job: str,
    run_id: str,
    options: RunOptions | None = None,
    step_hook: StepHook | None = None,
) -> dict[str, dict]:
    """Plan, build, stage and audit every mart, then publish them all; the run's summary.

    A failed blocking rule raises :class:`~lakehouse.dq.DataQualityFailure` after the
    outcomes are persisted, with nothing published.
    """
    options = options or RunOptions()
    selected = [s for s in specs if not options.marts or s.name in options.marts]
    run = MartRun(spark, paths, job=job, run_id=run_id, specs=selected, options=options, step_hook=step_hook)
    try:
        for spec in selected:
            plan = run.plan(spec)
            if plan.needs_build:
                run.audit(run.build(plan))
        run.enforce()
        run.publish_all()
        return run.summary()
    finally:
        run.release()
