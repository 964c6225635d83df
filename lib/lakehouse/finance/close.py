"""One daily close: extract, check, stage, audit, then publish, or fail and publish nothing.

Flow of :func:`close_day` (each state change recorded in ``_system/close_runs``)::

    pending     the attempt exists (close_run_id = close-<date>-v<version>)
    extracting  one ledger snapshot (jdbc: exported now; snapshot: an export in the lake) and
                Silver's Stripe tables at their audit watermarks
    checking    the match, every check, the exceptions (recorded for finance, published or not),
                the close marts staged and audited through lakehouse.marts (the same
                write-audit-publish as Gold), and the gate: no failed blocking check
    failed      a blocking check failed or an exception is open: nothing is published
    audited     every rule passed
    published   one commit per close mart (MERGE of this version's rows), then the state

Readers of the close marts see only published versions (:func:`lakehouse.finance.state.published`),
so a crash between any two steps leaves the previous published close as it was, and the rerun,
which rebuilds the same close_run_id, completes it once.

Example::

    request = CloseRequest(close_date=date(2026, 11, 1), business_tz="America/New_York",
                           ledger=LedgerSource("snapshot", exports_root=f"{lake}/ledger/exports"))
    outcome = close_day(spark, LakePaths(lake), request)
    outcome.state, outcome.blocking_open       # ('failed', 3)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import reduce

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.dq import RuleOutcome
from lakehouse.dq.engine import DataQualityFailure
from lakehouse.finance import state as S
from lakehouse.finance.checks import CloseInputs, raise_exceptions, summary, with_resolutions
from lakehouse.finance.inputs import (
    STRIPE_TABLES,
    CloseWindow,
    ledger_items,
    processor_items,
    stripe_objects_of_day,
)
from lakehouse.finance.late import ADJUSTMENT_SCHEMA, forward_posted, restated
from lakehouse.finance.ledger.extract import (
    LedgerExtractError,
    LedgerJdbc,
    LedgerSnapshot,
    export_ledger_jdbc,
    latest_export,
    read_ledger_export,
)
from lakehouse.finance.marts import (
    day_payments,
    day_refunds,
    day_tax_lines,
    revenue_daily,
    tax_liability_daily,
)
from lakehouse.finance.match import ledger_processor_match
from lakehouse.finance.reference import close_dir, load_reference
from lakehouse.finance.report import write_close_report
from lakehouse.lake import delta
from lakehouse.lake.audit import UnauditedInputError, read_audited
from lakehouse.lake.frames import checkpointed, release_checkpoint
from lakehouse.lake.paths import LakePaths
from lakehouse.marts import MartRun, MartSpec, RunOptions, load_specs
from lakehouse.marts.publish import conform, register, table_comment

log = logging.getLogger(__name__)

JOB = "finance_close"
CLOSE_MARTS = (
    "mart_ledger_processor_match",
    "recon_exception",
    "mart_recon_summary",
    "mart_revenue_daily",
    "mart_tax_liability_daily",
    "late_arrival_adjustment",
)
StepHook = Callable[[str, str], None]


class CloseError(RuntimeError):
    """The close could not run (an input is missing or unreadable); the reason is in words."""


@dataclass(frozen=True)
class LedgerSource:
    """Where the ledger comes from: an export already in the lake, or the database now."""

    kind: str  # snapshot | jdbc
    exports_root: str
    export_id: str = ""
    jdbc: LedgerJdbc | None = None


@dataclass(frozen=True)
class CloseRequest:
    close_date: date
    business_tz: str
    ledger: LedgerSource
    attempt_id: str = "local"
    restate: bool = False
    expect_livemode: bool = True
    late_lookback_days: int = 7
    database: str = "gold"


@dataclass
class CloseOutcome:
    close_date: date
    close_run_id: str
    close_version: int
    state: str
    checks_passed: int = 0
    checks_failed: int = 0
    checks_warned: int = 0
    exception_count: int = 0
    blocking_open: int = 0
    reason: str | None = None
    failed_checks: list[dict] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.state == "published"


def close_specs() -> dict[str, MartSpec]:
    specs = {s.name: s for s in load_specs(close_dir() / "marts")}
    missing = [m for m in (*CLOSE_MARTS, "close_run") if m not in specs]
    if missing:
        raise CloseError(f"close mart specs missing under jobs/finance_close/marts: {missing}")
    return specs


def _step(hook: StepHook | None, step: str, name: str = "*") -> None:
    if hook is not None:
        hook(step, name)


def _read_ledger(
    spark: SparkSession, source: LedgerSource, close_run_id: str, attempt_id: str
) -> LedgerSnapshot:
    if source.kind == "jdbc":
        if source.jdbc is None:
            raise CloseError("ledger_source=jdbc needs the ledger's JDBC settings")
        export_id = source.export_id or f"{close_run_id}-{attempt_id[:12]}"
        export_ledger_jdbc(spark, source.jdbc, source.exports_root, export_id)
        return read_ledger_export(spark, f"{source.exports_root.rstrip('/')}/{export_id}")
    export_dir = (
        f"{source.exports_root.rstrip('/')}/{source.export_id}"
        if source.export_id
        else latest_export(spark, source.exports_root)
    )
    if export_dir is None:
        raise CloseError(f"no complete ledger export under {source.exports_root}")
    return read_ledger_export(spark, export_dir)


def _read_silver(spark: SparkSession, paths: LakePaths) -> tuple[dict[str, DataFrame], dict[str, int]]:
    frames, versions = {}, {}
    for table in STRIPE_TABLES:
        name = f"silver.{table}"
        try:
            audited = read_audited(spark, paths, name)
        except UnauditedInputError as exc:
            raise CloseError(f"{name} cannot be read at an audit watermark: {exc}") from None
        frames[table], versions[name] = audited.df, audited.version
    return frames, versions


def _with_close(df: DataFrame, close_date: date, close_run_id: str, version: int) -> DataFrame:
    return (
        df.withColumn("close_date", F.lit(close_date))
        .withColumn("close_run_id", F.lit(close_run_id))
        .withColumn("close_version", F.lit(version).cast("int"))
    )


def _rebuilt_keys(
    spark: SparkSession, paths: LakePaths, spec: MartSpec, staged: DataFrame, close_run_id: str
):
    """This version's keys: the staged ones and any a crashed attempt of it left behind."""
    keys = staged.select(*spec.keys)
    path = paths.gold(spec.name)
    if delta.table_exists(spark, path):
        old = spark.read.format("delta").load(path).where(F.col("close_run_id") == close_run_id)
        keys = keys.unionByName(old.select(*spec.keys))
    return keys.distinct()


def _counts(rows: list[dict]) -> tuple[int, int, int]:
    passed = sum(r["status"] in ("passed", "explained") for r in rows)
    failed = sum(r["status"] == "failed" for r in rows)
    warned = sum(r["status"] == "warn" for r in rows)
    return passed, failed, warned


def write_close_run(spark: SparkSession, paths: LakePaths, spec: MartSpec, database: str) -> None:
    """``gold.close_run``: the latest state of every attempt (rewritten whole; a small table)."""
    view = conform(spec, S.close_run_view(spark, paths))
    path = paths.gold(spec.name)
    delta.create_if_absent(spark, path, view.schema, comment=table_comment(spec))
    view.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(path)
    register(spark, paths, spec, database)


def _finish(spark: SparkSession, paths: LakePaths, specs: dict[str, MartSpec], request: CloseRequest) -> None:
    """After an attempt ends: ``gold.close_run`` and the attempt's HTML report."""
    write_close_run(spark, paths, specs["close_run"], request.database)
    path = write_close_report(spark, paths, request.attempt_id)
    log.info("close report written", extra={"close_date": str(request.close_date), "path": str(path)})


def close_day(
    spark: SparkSession, paths: LakePaths, request: CloseRequest, *, step_hook: StepHook | None = None
) -> CloseOutcome:
    """Close one business day (see the module docstring)."""
    specs = close_specs()
    ref = load_reference()
    window = CloseWindow(request.close_date, request.business_tz)
    d = request.close_date
    S.ensure_state_tables(spark, paths)
    versions = S.published_versions(spark, paths, d)
    if versions and not request.restate:
        version, close_run_id = versions[-1]
        log.info("close already published", extra={"close_date": str(d), "close_run_id": close_run_id})
        MartRun(spark, paths, job=JOB, run_id=request.attempt_id, specs=[specs[m] for m in CLOSE_MARTS])
        write_close_run(spark, paths, specs["close_run"], request.database)
        return CloseOutcome(d, close_run_id, version, "published", reason="already published")
    if request.restate and not versions:
        raise CloseError(
            f"--restate {d}: the close of {d} has not been published, so there is nothing to restate"
        )
    version = (versions[-1][0] + 1) if versions else 1
    close_run_id = f"close-{d.isoformat()}-v{version}"
    start, end = window.utc
    state = S.CloseState(
        close_date=d,
        close_run_id=close_run_id,
        close_version=version,
        attempt_id=request.attempt_id,
        run_seq=S.next_run_seq(spark, paths),
        state="pending",
        business_tz=request.business_tz,
        cutoff_utc_start=start,
        cutoff_utc_end=end,
        ledger_source=request.ledger.kind,
        restates_run_id=versions[-1][1] if versions else None,
    )
    S.record_state(spark, paths, state)
    _step(step_hook, "pending")
    try:
        state = state.moved("extracting")
        S.record_state(spark, paths, state)
        _step(step_hook, "extracting")
        ledger = _read_ledger(spark, request.ledger, close_run_id, request.attempt_id)
        silver, input_versions = _read_silver(spark, paths)
        state = state.moved(
            "checking",
            ledger_export_id=ledger.watermark.export_id,
            ledger_snapshot_time=ledger.watermark.snapshot_time,
            stripe_max_event_at=latest_stripe_event(silver),
            input_versions=input_versions,
        )
        S.record_state(spark, paths, state)
        _step(step_hook, "checking")
        return _check_and_publish(spark, paths, request, specs, ref, window, ledger, silver, state, step_hook)
    except (CloseError, LedgerExtractError) as exc:
        state = state.moved("failed", reason=str(exc))
        S.record_state(spark, paths, state)
        _finish(spark, paths, specs, request)
        raise CloseError(str(exc)) from exc


def latest_stripe_event(silver: dict[str, DataFrame]) -> datetime | None:
    """The latest Stripe event (``event_created_at``) across the Stripe tables read."""
    frames = [df.select("event_created_at") for df in silver.values()]
    (row,) = reduce(DataFrame.unionByName, frames).agg(F.max("event_created_at").alias("m")).collect()
    return row.m


def _check_and_publish(
    spark: SparkSession,
    paths: LakePaths,
    request: CloseRequest,
    specs: dict[str, MartSpec],
    ref,
    window: CloseWindow,
    ledger: LedgerSnapshot,
    silver: dict[str, DataFrame],
    state: S.CloseState,
    step_hook: StepHook | None,
) -> CloseOutcome:
    d, close_run_id, version = state.close_date, state.close_run_id, state.close_version
    currencies = ref.currencies(spark)
    held: list[DataFrame] = []

    def hold(df: DataFrame) -> DataFrame:
        df = checkpointed(df)
        held.append(df)
        return df

    try:
        all_ledger, all_processor = ledger_items(ledger.tables), processor_items(silver)
        ledger_side = hold(all_ledger.where(window.in_read_window("at")))
        processor_side = hold(all_processor.where(window.in_read_window("at")))
        match = hold(
            _with_close(
                ledger_processor_match(ledger_side, processor_side, window, currencies),
                d,
                close_run_id,
                version,
            )
        )
        bts = silver["stg_stripe_balance_transactions"].where(window.on_day("created_at"))
        inputs = CloseInputs(
            window=window,
            ledger=ledger_side,
            processor=processor_side,
            match=match,
            stripe_objects=stripe_objects_of_day(silver, window),
            balance_transactions=bts,
            charges=silver["stg_stripe_charges"],
            refunds=silver["stg_stripe_refunds"],
            stripe_max_event_at=state.stripe_max_event_at,
            ledger_snapshot_time=ledger.watermark.snapshot_time,
            expect_livemode=request.expect_livemode,
        )
        raised = raise_exceptions(spark, inputs, ref)
        exceptions = hold(with_resolutions(raised, S.read_resolutions(spark, paths, d), currencies))
        exceptions_out = _with_close(exceptions, d, close_run_id, version)
        recon = hold(
            _with_close(summary(spark, exceptions, match, ref), d, close_run_id, version).withColumn(
                "abs_diff_minor", F.abs("diff_minor")
            )
        )
        for table, rows in ((S.CLOSE_EXCEPTIONS, exceptions_out), (S.CLOSE_CHECKS, recon)):
            S.record_attempt(spark, paths, table, rows, attempt_id=request.attempt_id, run_seq=state.run_seq)
        _step(step_hook, "checks_recorded")
        late = _late_arrivals(spark, paths, request, state, window, all_ledger, all_processor, match)
        adjustments = _with_close(late, d, close_run_id, version).withColumn(
            "adjustment_id",
            F.sha2(F.concat_ws("|", F.lit(close_run_id), "side", "entity_type", "entity_id"), 256),
        )
        frames = {
            "late_arrival_adjustment": adjustments.join(currencies, "currency", "left"),
            "mart_ledger_processor_match": match,
            "recon_exception": exceptions_out,
            "mart_recon_summary": recon,
            "mart_revenue_daily": _with_close(
                revenue_daily(ledger.tables, window, currencies), d, close_run_id, version
            ),
            "mart_tax_liability_daily": _with_close(
                tax_liability_daily(ledger.tables, window, currencies), d, close_run_id, version
            ),
        }
        views = {
            "close_ledger_payments": day_payments(ledger.tables, window).select("currency", "amount_minor"),
            "close_ledger_refunds": day_refunds(ledger.tables, window).select("currency", "amount_minor"),
            "close_ledger_tax_lines": day_tax_lines(ledger.tables, window).select("currency", "tax_minor"),
        }
        run = MartRun(
            spark,
            paths,
            job=JOB,
            run_id=request.attempt_id,
            specs=[specs[m] for m in CLOSE_MARTS],
            options=RunOptions(database=request.database),
            step_hook=step_hook,
        )
        try:
            for name in CLOSE_MARTS:
                spec = specs[name]
                rows = frames[name].select(*spec.column_names)
                staged = run.stage_rows(
                    spec, rows, full=False, rebuilt_keys=_rebuilt_keys(spark, paths, spec, rows, close_run_id)
                )
                run.audit(staged, views=views)
            run.outcomes.append(_version_consistency(run, close_run_id, version))
            check_rows = [r.asDict() for r in recon.collect()]  # one row per check and currency
            passed, failed, warned = _counts(check_rows)
            (counts,) = exceptions.agg(
                F.count("*").alias("n"),
                F.count_if(F.expr("status = 'open' AND severity = 'blocking'")).alias("open"),
            ).collect()
            failed_checks = [r for r in check_rows if r["status"] == "failed"]
            run.outcomes.append(_gate(failed_checks, int(counts.open)))
            state = state.moved(
                "checking",
                checks_passed=passed,
                checks_failed=failed,
                checks_warned=warned,
                exception_count=int(counts.n),
                blocking_open=int(counts.open),
            )
            try:
                run.enforce()
            except DataQualityFailure as exc:
                reason = _failure_reason(failed_checks, int(counts.open), exc)
                state = state.moved("failed", reason=reason)
                S.record_state(spark, paths, state)
                _step(step_hook, "failed")
                _finish(spark, paths, specs, request)
                log.warning("close failed: nothing published", extra={"close_date": str(d), "reason": reason})
                return _outcome(state, failed_checks)
            state = state.moved("audited")
            S.record_state(spark, paths, state)
            _step(step_hook, "audited")

            def mark_published(_: dict[str, int]) -> None:
                nonlocal state
                state = state.moved("published")
                S.record_state(spark, paths, state)
                if state.restates_run_id:
                    S.mark_restated(spark, paths, state.restates_run_id)
                _step(step_hook, "published")

            run.publish_all(after_commits=mark_published)
            _finish(spark, paths, specs, request)
            log.info("close published", extra={"close_date": str(d), "close_run_id": close_run_id})
            return _outcome(state, failed_checks)
        finally:
            run.release()
    finally:
        for df in held:
            release_checkpoint(df)


def _late_arrivals(
    spark: SparkSession,
    paths: LakePaths,
    request: CloseRequest,
    state: S.CloseState,
    window: CloseWindow,
    ledger: DataFrame,
    processor: DataFrame,
    match: DataFrame,
) -> DataFrame:
    """Forward-posted late items (a normal close) or the restatement's changes (``restate``)."""
    match_path = paths.gold("mart_ledger_processor_match")
    if not delta.table_exists(spark, match_path):
        return spark.createDataFrame([], ADJUSTMENT_SCHEMA)
    if state.restates_run_id:
        every = spark.read.format("delta").load(match_path)
        return restated(match, every.where(F.col("close_run_id") == state.restates_run_id))
    days = request.late_lookback_days
    earlier = S.published(spark, paths, "mart_ledger_processor_match").where(
        F.col("close_date").between(
            F.date_sub(F.lit(window.close_date), days), F.date_sub(F.lit(window.close_date), 1)
        )
    )
    return forward_posted(
        ledger.where(window.before_day("at", days)),
        processor.where(window.before_day("at", days)),
        earlier,
        window,
    )


def _version_consistency(run: MartRun, close_run_id: str, version: int) -> RuleOutcome:
    """R17: every staged row of every close mart belongs to this close run."""
    wrong = 0
    for staged in run.staged.values():
        wrong += staged.df.where(
            (F.col("close_run_id") != close_run_id) | (F.col("close_version") != version)
        ).count()
    return RuleOutcome(
        table_name="gold.*",
        ruleset="finance_close.checks",
        rule=f'R17 "every close mart row has close_run_id {close_run_id}"',
        severity="blocking",
        outcome="Passed" if wrong == 0 else "Failed",
        failure_reason=f"{wrong} row(s) of another close run" if wrong else None,
        evaluated_metrics={"R17.rows_of_another_run": float(wrong)},
    )


def _gate(failed_checks: list[dict], blocking_open: int) -> RuleOutcome:
    ok = not failed_checks and blocking_open == 0
    shown = "; ".join(
        f"{r['check_id']} {r['currency']} {r['finance_category']}: difference {r['diff_minor']}, "
        f"{r['exception_count']} exception(s)"
        for r in failed_checks[:8]
    )
    return RuleOutcome(
        table_name="gold.close_run",
        ruleset="finance_close.gate",
        rule="Close gate: no failed blocking check and no open blocking exception",
        severity="blocking",
        outcome="Passed" if ok else "Failed",
        failure_reason=None if ok else f"{blocking_open} open blocking exception(s); {shown}",
        evaluated_metrics={
            "Gate.blocking_open": float(blocking_open),
            "Gate.failed_checks": float(len(failed_checks)),
        },
    )


def _failure_reason(failed_checks: list[dict], blocking_open: int, exc: DataQualityFailure) -> str:
    if failed_checks or blocking_open:
        ids = sorted({r["check_id"] for r in failed_checks}, key=lambda c: int(c[1:]))
        return f"{blocking_open} open blocking exception(s); failed checks: {', '.join(ids)}"
    return str(exc)


def _outcome(state: S.CloseState, failed_checks: list[dict]) -> CloseOutcome:
    return CloseOutcome(
        close_date=state.close_date,
        close_run_id=state.close_run_id,
        close_version=state.close_version,
        state=state.state,
        checks_passed=state.checks_passed or 0,
        checks_failed=state.checks_failed or 0,
        checks_warned=state.checks_warned or 0,
        exception_count=state.exception_count or 0,
        blocking_open=state.blocking_open or 0,
        reason=state.reason,
        failed_checks=failed_checks,
    )
