"""The ``lakehouse`` command: run jobs locally exactly as their Glue entrypoints do.

Examples::

    lakehouse run bronze_to_silver --lake-root .lake
    lakehouse run finance_close --lake-root .lake --business-date 2026-11-26
    lakehouse demo --lake-root .lake
    lakehouse deploy --env dev
"""

from __future__ import annotations

import argparse
import sys

from lakehouse.config import ConfigError, add_cli_options, config_from_cli
from lakehouse.jobs import JOB_NAMES, get_job

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors on one line and exits 2 (its own convention too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="lakehouse",
        description="Run the lakehouse Glue jobs locally, the demo workflow, or deploy to AWS.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    run = commands.add_parser("run", help="run one job, as its Glue entrypoint would")
    jobs = run.add_subparsers(dest="job", required=True, parser_class=_Parser, metavar="JOB")
    for name in JOB_NAMES:
        spec = get_job(name)
        job_parser = jobs.add_parser(name, help=spec.description, description=spec.description)
        add_cli_options(job_parser, spec.config_class)
        job_parser.add_argument("--driver-memory", help="Spark driver memory for a local run, e.g. 2g.")

    demo = commands.add_parser("demo", help="generate sample Bronze data and run the workflow on it, locally")
    demo.add_argument("--lake-root", default=".lake", help="lake folder (default: .lake)")
    demo.add_argument("--events", type=int, default=20000, help="sample events to generate (default: 20000)")

    replay = commands.add_parser(
        "replay-quarantine", help="re-process quarantined records after a contract fix, exactly once"
    )
    replay.add_argument("--lake-root", required=True, help="lake root URI or folder")
    replay.add_argument("--error-type", help="only records with this error_type (default: all)")

    deploy = commands.add_parser("deploy", help="build and upload the artifacts and deploy the stacks")
    try:
        from lakehouse import deploy as deploy_module

        deploy_module.add_arguments(deploy)
    except ImportError:  # the deploy extras are part of the dev install
        deploy.set_defaults(unavailable=True)
    return parser


def _run(args: argparse.Namespace) -> int:
    from lakehouse.entrypoint import EXIT_OK, execute

    spec = get_job(args.job)
    try:
        config = config_from_cli(spec.config_class, spec.name, args)
    except ConfigError as exc:
        print(f"lakehouse run {spec.name}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    code, result = execute(spec, config, driver_memory=args.driver_memory)
    status = "succeeded" if code == EXIT_OK else "FAILED (see the log lines above and the run log)"
    figures = (
        f" in={result.rows_in} out={result.rows_out} quarantined={result.rows_quarantined}" if result else ""
    )
    print(f"{spec.name} {status}: run_id={config.run_id}{figures}")
    return code


def _report(item) -> None:
    """Print demo progress and the final summary for a person reading the terminal."""
    if isinstance(item, dict):
        print("  tables:")
        for name, rows in sorted(item["tables"].items()):
            print(f"    {name:<45} {rows:>9} rows")
        print("  quarantined records by reason:", dict(sorted(item["quarantine"].items())))
        print("  data-quality outcomes (severity/outcome):", dict(sorted(item["dq"].items())))
        print("  latest runs:")
        for run in item["runs"]:
            print(
                f"    {run['job']:<18} {run['status']:<9} in={run['rows_in']} out={run['rows_out']}"
                f" quarantined={run['rows_quarantined']}"
            )
    else:
        print(f"== {item}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "demo":
        from lakehouse.demo import run_demo

        return run_demo(args.lake_root, events=args.events, report=_report)
    if args.command == "replay-quarantine":
        from lakehouse.jobs.replay_quarantine import replay_main

        return replay_main(args.lake_root, error_type=args.error_type)
    if args.command == "deploy":
        from lakehouse import deploy as deploy_module

        return deploy_module.command(args)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
