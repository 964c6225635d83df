"""The ``lakehouse`` command: run jobs locally exactly as their Glue entrypoints do.

Examples::

    lakehouse run bronze_to_silver --lake-root .lake
    lakehouse run finance_close --lake-root .lake --business-date 2026-11-26
    lakehouse replay-quarantine --lake-root .lake --pii-key-file keys.json --contracts-path contracts
    lakehouse demo --lake-root .lake
    lakehouse workflow run --lake-root .lake [--from JOB | --only JOB]
    lakehouse tables --lake-root .lake
    lakehouse sql --lake-root .lake "select count(*) from silver.events"
    lakehouse report --lake-root .lake
    lakehouse contracts check            # published contract versions unchanged
    lakehouse audit status --lake-root .lake
    lakehouse audit override --lake-root .lake --table silver.events --version 12 --reason "..."
    lakehouse deploy --env dev
"""

from __future__ import annotations

import argparse
import json
import sys

from lakehouse.config import ConfigError, add_cli_options, config_from_cli
from lakehouse.jobs import JOB_NAMES, get_job

EXIT_USAGE = 2
EXIT_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors on one line and exits 2 (its own convention too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _log_format_option() -> argparse.ArgumentParser:
    """``--log-format``, shared by every command that runs jobs."""
    from lakehouse.runtime import on_glue_host

    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--log-format",
        choices=("human", "json"),
        default="json" if on_glue_host() else "human",
        help="terminal output: a view for people (default) or JSON log lines on stdout "
        "(default under Glue); JSON lines always go to <lake_root>/_system/logs/ too",
    )
    return parent


def _add_workflow_commands(commands, logging_parent: argparse.ArgumentParser) -> None:
    """``workflow run``, ``tables``, ``sql`` and ``report``."""
    workflow = commands.add_parser("workflow", help="run the workflow graph (workflows/*.yaml) locally")
    actions = workflow.add_subparsers(dest="workflow_command", required=True, parser_class=_Parser)
    run = actions.add_parser(
        "run",
        parents=[logging_parent],
        help="run the daily workflow: bronze_to_silver -> silver_to_gold -> finance_close -> BI refresh",
        description="Run the workflow on a local lake. A failed job stops the jobs after it; "
        "the next run resumes from the failed job.",
    )
    run.add_argument("--lake-root", required=True, help="lake folder")
    run.add_argument("--workflow", default="daily", help="workflow file under workflows/ (default: daily)")
    selection = run.add_mutually_exclusive_group()
    selection.add_argument("--from", dest="from_step", metavar="JOB", help="run JOB and every step after it")
    selection.add_argument("--only", dest="only_step", metavar="JOB", help="run JOB alone")
    run.add_argument("--env", default="local", help="environment the jobs run as (default: local)")
    run.add_argument(
        "--bi-env",
        default="dev",
        help="environment whose QuickSight data sets the BI step reports (default: dev)",
    )
    run.add_argument(
        "--job-arg",
        action="append",
        default=[],
        metavar="JOB:NAME=VALUE",
        help="an argument for one job, e.g. finance_close:business_date=2026-11-26 (repeatable)",
    )
    run.add_argument("--driver-memory", help="Spark driver memory, e.g. 2g")

    tables = commands.add_parser("tables", help="list the silver and gold tables with row counts")
    tables.add_argument("--lake-root", required=True, help="lake folder")
    tables.add_argument("--database-prefix", default="", help="prefix of the catalog databases")

    sql = commands.add_parser("sql", help="run Spark SQL against the silver and gold catalog, like Athena")
    sql.add_argument("--lake-root", required=True, help="lake folder")
    sql.add_argument("query", help='the query, e.g. "select count(*) from silver.events"')
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    sql.add_argument("--limit", type=int, default=1000, help="most rows printed (default: 1000)")

    sample = commands.add_parser(
        "generate-bronze", help="write sample Bronze files (all channels, with faults)"
    )
    sample.add_argument("--lake-root", required=True, help="lake folder")
    sample.add_argument("--events", type=int, default=2000, help="events to generate (default: 2000)")
    sample.add_argument("--days", type=int, default=1, help="days of arrival hours, ending now (default: 1)")

    finance = commands.add_parser(
        "generate-finance",
        help="write a sample ledger snapshot and its Stripe webhooks, with planted discrepancies",
    )
    finance.add_argument("--lake-root", required=True, help="lake folder")
    finance.add_argument("--seed", type=int, default=16, help="seed of the sample (default: 16)")

    report = commands.add_parser("report", help="write the HTML report <lake_root>/report/index.html")
    report.add_argument("--lake-root", required=True, help="lake folder")

    experiments = commands.add_parser("experiments", help="experiment health and results from Gold")
    actions = experiments.add_subparsers(dest="experiments_command", required=True, parser_class=_Parser)
    readout = actions.add_parser("report", help="one experiment's health and latest results as a table")
    readout.add_argument("--lake-root", required=True, help="lake folder")
    readout.add_argument("--key", help="experiment key (default: every experiment)")
    readout.add_argument("--format", choices=("table", "json"), default="table", help="output format")


def _add_audit_commands(commands) -> None:
    """``audit status`` and ``audit override``."""
    audit = commands.add_parser("audit", help="audit watermarks of the tables, and overrides of failures")
    actions = audit.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    status = actions.add_parser("status", help="per table: audit watermark, latest version, open failure")
    status.add_argument("--lake-root", required=True, help="lake folder")
    override = actions.add_parser(
        "override",
        help="accept a failed table version with a reason; readers then read it",
        description="Record that a person accepted VERSION of TABLE despite its failed blocking rules. "
        "The audit watermark moves to VERSION; later runs audit only what changes after it.",
    )
    override.add_argument("--lake-root", required=True, help="lake folder")
    override.add_argument("--table", required=True, help="<layer>.<table>, e.g. silver.events")
    override.add_argument("--version", required=True, type=int, help="the Delta version to accept")
    override.add_argument("--reason", required=True, help="why this version is accepted (recorded)")


def _add_close_commands(commands) -> None:
    """``close status`` and ``close resolve``: the finance close for the people who run it."""
    close = commands.add_parser("close", help="the finance close: its state, failing checks and exceptions")
    actions = close.add_subparsers(dest="close_command", required=True, parser_class=_Parser)
    status = actions.add_parser("status", help="state, failing checks and open exceptions of a close")
    status.add_argument("--lake-root", required=True, help="lake folder")
    status.add_argument("--date", help="business day YYYY-MM-DD (default: every close attempted)")
    resolve = actions.add_parser(
        "resolve",
        help="resolve an exception of a close with a recorded reason",
        description="Record that a person resolved one exception of the latest close of DATE. The next "
        "run of the close counts it as resolved; the gate counts only unresolved blocking exceptions.",
    )
    resolve.add_argument("--lake-root", required=True, help="lake folder")
    resolve.add_argument("--date", required=True, help="business day YYYY-MM-DD of the close")
    resolve.add_argument("--check", required=True, help="check id, e.g. R9")
    resolve.add_argument("--entity", required=True, help="the exception's entity id (ledger or Stripe id)")
    resolve.add_argument("--reason", required=True, help="why the difference is accepted (recorded)")
    resolve.add_argument("--by", required=True, help="who resolves it (recorded)")


def _generate_finance(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from lakehouse.synthetic.finance import FinanceSpec, write_finance_lake

    spark = _session_for(args)
    if spark is None:
        return args.exit_code
    world = write_finance_lake(spark, _absolute(args.lake_root), FinanceSpec(seed=args.seed))
    days = [world.spec.first_date + timedelta(days=n) for n in range(world.spec.days)]
    print(
        f"wrote {len(world.stripe_events):,} Stripe webhooks and a ledger snapshot of "
        f"{sum(len(rows) for rows in world.ledger.values()):,} rows for the business days "
        f"{', '.join(map(str, days))} ({world.spec.business_tz})"
    )
    for planted in world.planted:
        print(f"  planted on {planted.close_date}: {planted.kind} ({planted.entity_id}, {planted.currency})")
    return 0


def _close(args: argparse.Namespace) -> int:
    from datetime import date

    from lakehouse.finance.state import CloseStateError, resolve
    from lakehouse.finance.status import close_status_lines
    from lakehouse.lake.paths import LakePaths

    try:
        day = date.fromisoformat(args.date) if args.date else None
    except ValueError:
        print(f"lakehouse close: error: --date: expected YYYY-MM-DD, got {args.date!r}", file=sys.stderr)
        return EXIT_USAGE
    spark = _session_for(args)
    if spark is None:
        return args.exit_code
    paths = LakePaths(_absolute(args.lake_root))
    if args.close_command == "resolve":
        try:
            resolve(spark, paths, day, args.check, args.entity, reason=args.reason, resolved_by=args.by)
        except CloseStateError as exc:
            print(f"lakehouse close resolve: error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(
            f"{args.check} {args.entity} of {day}: resolved by {args.by} ({args.reason}); run the close again"
        )
        return 0
    lines, published = close_status_lines(spark, paths, day)
    for line in lines:
        print(line)
    return 0 if published else 1


def _audit(args: argparse.Namespace) -> int:
    import uuid

    from lakehouse.lake.audit import audit_status, override
    from lakehouse.lake.paths import LakePaths

    spark = _session_for(args)
    if spark is None:
        return args.exit_code
    paths = LakePaths(_absolute(args.lake_root))
    if args.audit_command == "override":
        try:
            entry = override(
                spark,
                paths,
                args.table,
                args.version,
                reason=args.reason,
                run_id=f"override-{uuid.uuid4().hex[:8]}",
            )
        except ValueError as exc:
            print(f"lakehouse audit override: error: {exc}", file=sys.stderr)
            return EXIT_FAILED
        print(f"{entry.table_name}: version {entry.version} accepted ({entry.reason})")
        return 0
    rows = audit_status(spark, paths)
    if not rows:
        print(f"nothing audited yet in {args.lake_root}")
        return 0
    width = max(len(r.table_name) for r in rows)
    for r in rows:
        watermark = "none" if r.watermark is None else str(r.watermark)
        state = f"FAILED at version {r.failure['version']}: {r.failure['reason']}" if r.failure else "ok"
        print(f"{r.table_name:<{width}}  watermark {watermark:>5}  latest {r.latest_version!s:>5}  {state}")
    return 1 if any(r.failure for r in rows) else 0


def build_parser() -> argparse.ArgumentParser:
    logging_parent = _log_format_option()
    parser = _Parser(
        prog="lakehouse",
        description="Run the lakehouse Glue jobs locally, the demo workflow, or deploy to AWS.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    run = commands.add_parser("run", help="run one job, as its Glue entrypoint would")
    jobs = run.add_subparsers(dest="job", required=True, parser_class=_Parser, metavar="JOB")
    for name in JOB_NAMES:
        spec = get_job(name)
        job_parser = jobs.add_parser(
            name, help=spec.description, description=spec.description, parents=[logging_parent]
        )
        add_cli_options(job_parser, spec.config_class)
        job_parser.add_argument("--driver-memory", help="Spark driver memory for a local run, e.g. 2g.")

    demo = commands.add_parser(
        "demo", help="generate sample data and run the workflow on it, locally", parents=[logging_parent]
    )
    demo.add_argument("--lake-root", default=".lake", help="lake folder (default: .lake)")
    demo.add_argument("--events", type=int, default=6000, help="sample events to generate (default: 6000)")
    demo.add_argument("--days", type=int, default=3, help="days of sample data (default: 3)")

    replay = commands.add_parser(
        "replay-quarantine",
        help="re-process quarantined records after a contract fix, exactly once "
        "(the same as `run replay_quarantine`)",
        parents=[logging_parent],
    )
    add_cli_options(replay, get_job("replay_quarantine").config_class)
    replay.add_argument("--driver-memory", help="Spark driver memory for a local run, e.g. 2g.")
    replay.set_defaults(job="replay_quarantine")

    _add_workflow_commands(commands, logging_parent)
    _add_audit_commands(commands)
    _add_close_commands(commands)

    contracts = commands.add_parser(
        "contracts", help="check or extend the lock of published contract versions"
    )
    actions = contracts.add_subparsers(dest="contracts_command", required=True, parser_class=_Parser)
    for action, text in (
        (
            "check",
            "fail when a published (locked) contract version was edited or removed, or one is not locked",
        ),
        ("lock", "publish the contract versions not locked yet (contracts/lock.json)"),
    ):
        sub = actions.add_parser(action, help=text, description=text)
        sub.add_argument("--contracts-path", help="folder of contracts (default: the shipped canon)")

    deploy = commands.add_parser("deploy", help="build and upload the artifacts and deploy the stacks")
    try:
        from lakehouse import deploy as deploy_module

        deploy_module.add_arguments(deploy)
    except ImportError:  # the deploy extras are part of the dev install
        deploy.set_defaults(unavailable=True)
    return parser


def _setup_logging(args: argparse.Namespace, *, stream=None) -> None:
    from lakehouse import logs

    logs.configure(log_format=getattr(args, "log_format", "human"), stream=stream)
    lake_root = getattr(args, "lake_root", None)
    if lake_root:
        logs.log_to_file(_absolute(lake_root), args.command)


def _absolute(lake_root: str) -> str:
    import os

    return lake_root if "://" in lake_root else os.path.abspath(lake_root)


def _run(args: argparse.Namespace) -> int:
    from lakehouse import logs
    from lakehouse.entrypoint import EXIT_OK, run_job
    from lakehouse.workflow.runner import FAILED, SUCCEEDED, StepOutcome, job_summary, log_step, plain_error

    spec = get_job(args.job)
    prog = "lakehouse " + (f"run {spec.name}" if args.command == "run" else args.command)
    try:
        config = config_from_cli(spec.config_class, spec.name, args)
    except ConfigError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _setup_logging(args)
    outcome = run_job(spec, config, driver_memory=args.driver_memory)
    if outcome.status in ("BUSY", "NOT_STARTED"):
        print(f"{prog}: error: {outcome.error}", file=sys.stderr)
        return outcome.code
    ok = outcome.code == EXIT_OK
    summary = job_summary(outcome.result) if ok else plain_error(spec.name, outcome.error)
    log_step(StepOutcome(spec.name, SUCCEEDED if ok else FAILED, outcome.seconds, summary))
    if not ok and args.log_format == "human":
        print(f"{spec.name} failed (run {config.run_id}); full log: {logs.current_log_file()}")
    return outcome.code


def _workflow(args: argparse.Namespace) -> int:
    from lakehouse import logs
    from lakehouse.entrypoint import EXIT_BUSY
    from lakehouse.lake.lock import LakeBusyError
    from lakehouse.workflow.graph import GraphError
    from lakehouse.workflow.runner import WorkflowRequest, run_workflow

    job_arguments: dict[str, dict[str, str]] = {}
    for item in args.job_arg:
        job, sep, assignment = item.partition(":")
        name, eq, value = assignment.partition("=")
        if not (sep and eq and job and name):
            message = f"--job-arg {item!r}: expected JOB:NAME=VALUE"
            print(f"lakehouse workflow run: error: {message}", file=sys.stderr)
            return EXIT_USAGE
        job_arguments.setdefault(job, {})[name.replace("-", "_")] = value
    request = WorkflowRequest(
        lake_root=_absolute(args.lake_root),
        workflow=args.workflow,
        from_step=args.from_step,
        only_step=args.only_step,
        env=args.env,
        bi_env=args.bi_env,
        job_arguments=job_arguments,
        driver_memory=args.driver_memory,
    )
    _setup_logging(args)
    try:
        outcome = run_workflow(request)
    except LakeBusyError as exc:
        print(f"lakehouse workflow run: {exc}", file=sys.stderr)
        return EXIT_BUSY
    except (ConfigError, GraphError) as exc:
        print(f"lakehouse workflow run: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.log_format != "human":
        return 0 if outcome.succeeded else EXIT_FAILED
    run = outcome.workflow_run_id[:8]
    if outcome.succeeded:
        print(f"workflow {request.workflow} finished in {outcome.seconds:.0f} s (run {run})")
        return 0
    print(
        f"workflow {request.workflow} stopped after {outcome.seconds:.0f} s: {outcome.failed_step} failed"
        f" (run {run}).\n"
        f"  full log: {logs.current_log_file()}\n"
        f"  next: fix the cause, then `lakehouse workflow run --lake-root {args.lake_root}` "
        f"resumes from {outcome.failed_step}"
    )
    return EXIT_FAILED


def _session_for(args: argparse.Namespace):
    """A quiet local Spark session on the lake, or None after a one-line error."""
    from lakehouse.lake.lock import LakeBusyError
    from lakehouse.runtime import RuntimeSetupError, local_spark_session

    _setup_logging(args, stream=sys.stderr)  # stdout is for the data
    try:
        return local_spark_session(_absolute(args.lake_root))
    except (LakeBusyError, RuntimeSetupError) as exc:
        print(f"lakehouse {args.command}: {exc}", file=sys.stderr)
        args.exit_code = 75 if isinstance(exc, LakeBusyError) else EXIT_FAILED
        return None


def _tables(args: argparse.Namespace) -> int:
    from lakehouse.workflow.query import list_tables

    spark = _session_for(args)
    if spark is None:
        return args.exit_code
    rows = list_tables(spark, prefix=args.database_prefix)
    if not rows:
        print(f"no tables yet in {args.lake_root}: run `lakehouse workflow run --lake-root {args.lake_root}`")
        return 0
    width = max(len(r.name) for r in rows)
    for r in rows:
        print(f"{r.name:<{width}}  {r.rows:>10,} rows  {r.description}")
    return 0


def _sql(args: argparse.Namespace) -> int:
    from lakehouse.workflow.query import QueryError, format_rows, run_query

    spark = _session_for(args)
    if spark is None:
        return args.exit_code
    try:
        columns, rows, truncated = run_query(spark, args.query, limit=args.limit)
    except QueryError as exc:
        print(f"lakehouse sql: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(format_rows(columns, rows, args.format), end="")
    if truncated:
        print(f"(first {args.limit} rows; raise --limit for more)", file=sys.stderr)
    return 0


def _report_command(args: argparse.Namespace) -> int:
    from lakehouse.report import build_report

    spark = _session_for(args)
    if spark is None:
        return args.exit_code
    path = build_report(spark, _absolute(args.lake_root))
    print(f"report: {path}")
    return 0


def _experiments(args: argparse.Namespace) -> int:
    from lakehouse.experiments.readout import experiment_readout
    from lakehouse.lake.audit import UnauditedInputError
    from lakehouse.lake.paths import LakePaths
    from lakehouse.workflow.query import format_rows

    spark = _session_for(args)
    if spark is None:
        return args.exit_code
    try:
        readout = experiment_readout(spark, LakePaths(_absolute(args.lake_root)), key=args.key)
    except UnauditedInputError as exc:
        print(f"lakehouse experiments report: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if not readout.health_rows:
        known = f" {args.key!r}" if args.key else ""
        print(
            f"lakehouse experiments report: error: no experiment{known} in gold.exp_health", file=sys.stderr
        )
        return EXIT_FAILED
    if args.format == "json":
        document = {
            "health": [dict(zip(readout.health_columns, r, strict=True)) for r in readout.health_rows],
            "results": [dict(zip(readout.result_columns, r, strict=True)) for r in readout.result_rows],
        }
        print(json.dumps(document, indent=2, default=str))
        return 0
    print("health")
    print(format_rows(readout.health_columns, readout.health_rows, "table"))
    print("results (latest snapshot)")
    print(format_rows(readout.result_columns, readout.result_rows, "table"), end="")
    return 0


def _contracts(args: argparse.Namespace) -> int:
    from lakehouse.contracts import ContractError
    from lakehouse.contracts.lock import LOCK_FILE, check_lock, write_lock

    prog = f"lakehouse contracts {args.contracts_command}"
    try:
        if args.contracts_command == "lock":
            added = write_lock(args.contracts_path)
            print(f"locked {len(added)} new version(s)" + "".join(f"\n  {rel}" for rel in added))
            return 0
        problems = check_lock(args.contracts_path)
    except ContractError as exc:
        for line in str(exc).splitlines():
            print(f"{prog}: error: {line}", file=sys.stderr)
        return EXIT_FAILED
    for line in problems:
        print(f"{prog}: error: {line}", file=sys.stderr)
    if not problems:
        print(f"every contract version is published in {LOCK_FILE} and unchanged")
    return EXIT_FAILED if problems else 0


def _report(line: str) -> None:
    """Print a demo line for a person reading the terminal."""
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "demo":
        from lakehouse.demo import run_demo

        _setup_logging(args)
        from lakehouse.lake.lock import LakeBusyError

        try:
            return run_demo(_absolute(args.lake_root), events=args.events, days=args.days, report=_report)
        except LakeBusyError as exc:
            print(f"lakehouse demo: {exc}", file=sys.stderr)
            return 75
    if args.command == "workflow":
        return _workflow(args)
    if args.command == "tables":
        return _tables(args)
    if args.command == "sql":
        return _sql(args)
    if args.command == "report":
        return _report_command(args)
    if args.command == "audit":
        return _audit(args)
    if args.command == "close":
        return _close(args)
    if args.command == "experiments":
        return _experiments(args)
    if args.command == "generate-bronze":
        from lakehouse.demo import generate_sample_bronze

        generated = generate_sample_bronze(_absolute(args.lake_root), args.events, days=args.days)
        files = sum(c.files for c in generated.channels.values())
        lines = sum(c.lines for c in generated.channels.values())
        print(f"wrote {lines:,} records in {files:,} files under {_absolute(args.lake_root)}/bronze")
        return 0
    if args.command == "generate-finance":
        return _generate_finance(args)
    if args.command == "replay-quarantine":
        return _run(args)
    if args.command == "contracts":
        return _contracts(args)
    if args.command == "deploy":
        from lakehouse import deploy as deploy_module

        return deploy_module.command(args)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
