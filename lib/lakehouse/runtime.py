"""The one way a job gets Spark: the same code path under pytest, spark-submit, the
AWS Glue Docker image and AWS Glue.

Locally the session is a plain ``SparkSession`` sized for a small machine, with the
Delta and Deequ jars that ``make jars`` resolved into ``.jars/`` and an embedded
(Derby) metastore under ``<lake_root>/_system/metastore`` so that the ``silver`` and
``gold`` databases persist across runs. Under Glue (the Glue JVM classes are on the
classpath) the session is wrapped in a ``GlueContext`` and the run is bracketed by
``Job.init`` / ``Job.commit``. The Glue session and Job come only from here; the one
other use of ``awsglue`` is ``config.py`` asking its ``getResolvedOptions`` for arguments.

Example::

    with job_runtime(config) as rt:
        result = spec.run(rt.spark, config)
        rt.commit()
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse import _versions
from lakehouse.assets import repo_root
from lakehouse.lake import lock

log = logging.getLogger(__name__)

os.environ.setdefault("SPARK_VERSION", "3.5")  # pydeequ reads it at import time

JARS_DIR_ENV = "LAKEHOUSE_JARS_DIR"
GLUE_CONTEXT_CLASS = "com.amazonaws.services.glue.GlueContext"
REQUIRED_JAR_PREFIXES = ("delta-spark_", "delta-storage-", "deequ-", "dqdl-")
# Plans of marts built on marts staged in the same run are deep; Spark renders every plan to
# text for its listeners, and an unbounded rendering exhausted the driver heap.
PLAN_STRING_LIMIT = "200000"


class RuntimeSetupError(RuntimeError):
    """The runtime cannot start: missing jars, wrong pyspark version."""


def jars_dir() -> Path | None:
    """Folder of the resolved JVM jars: ``$LAKEHOUSE_JARS_DIR``, else ``<repo>/.jars``."""
    configured = os.environ.get(JARS_DIR_ENV)
    if configured:
        return Path(configured)
    root = repo_root()
    return root / ".jars" if root else None


def local_jars() -> list[str]:
    """The jar files to hand to Spark locally; a clear error when they are missing."""
    folder = jars_dir()
    jars = sorted(str(p) for p in folder.glob("*.jar")) if folder and folder.is_dir() else []
    missing = [p for p in REQUIRED_JAR_PREFIXES if not any(Path(j).name.startswith(p) for j in jars)]
    if missing:
        raise RuntimeSetupError(
            f"JVM jars missing from {folder} ({', '.join(missing)}): run `make jars` "
            f"or set {JARS_DIR_ENV} to the folder holding them"
        )
    return jars


def _is_local_path(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _local_path(uri: str) -> Path:
    return Path(uri.removeprefix("file://")).resolve()


def local_system_dir(lake_root: str) -> Path:
    """Where a local session keeps its catalog, lock and JVM log: ``<lake_root>/_system``
    (``./.lake-system`` for a lake on S3 run from this machine)."""
    return _local_path(lake_root) / "_system" if _is_local_path(lake_root) else Path(".lake-system").resolve()


# The JVM's own log lines (start-up warnings, Hive and Derby messages) go to a file under
# _system/logs, never to the terminal; Python errors carry the Java message that matters.
_LOG4J2 = """status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = {file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{yyyy-MM-dd HH:mm:ss.SSS}} %p %c: %m%n
rootLogger.level = warn
rootLogger.appenderRef.file.ref = file
"""


def _log4j2_config(system: Path) -> Path:
    logs = system / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    config = system / "log4j2.properties"
    text = _LOG4J2.format(file=logs / "spark-jvm.log")
    if not config.is_file() or config.read_text() != text:
        config.write_text(text)
    return config


def _jvm_stderr_to_file(spark, path: Path) -> None:
    """Send what JVM libraries print on System.err (ANTLR version notices, stray stack traces)
    to the JVM log file instead of the terminal; Python still gets every error as an exception."""
    jvm = spark.sparkContext._jvm
    with contextlib.suppress(Exception):
        jvm.java.lang.System.setErr(
            jvm.java.io.PrintStream(jvm.java.io.FileOutputStream(str(path), True), True)
        )


def local_spark_session(
    lake_root: str,
    *,
    app_name: str = "lakehouse",
    driver_memory: str | None = None,
    shuffle_partitions: int = 4,
    master: str = "local[2]",
):
    """A local SparkSession with Delta, Deequ, UTC, ANSI mode and a persistent catalog.

    The catalog (Derby metastore and warehouse) lives under ``<lake_root>/_system``,
    so one job finds the tables another registered, across processes. Only one
    session exists per process: a second call returns the first session. The lake's lock
    is taken first (:mod:`lakehouse.lake.lock`): a second process on the same lake gets
    :class:`~lakehouse.lake.lock.LakeBusyError` before any JVM starts.
    """
    import pyspark
    from pyspark.sql import SparkSession

    if pyspark.__version__ != _versions.SPARK:
        raise RuntimeSetupError(f"pyspark {pyspark.__version__} found, {_versions.SPARK} (Glue 5.1) required")
    system = local_system_dir(lake_root)
    lock.acquire(system, command=lock.current_command())
    metastore = system / "metastore"
    java_opts = (
        f"-Duser.timezone=UTC -Dderby.system.home={metastore} "
        f"-Dlog4j2.configurationFile=file:{_log4j2_config(system)}"
    )
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.jars", ",".join(local_jars()))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", "2")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.maxPlanStringLength", PLAN_STRING_LIMIT)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.extraJavaOptions", java_opts)
        .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
        # List files on the driver: on a local disk a Spark job of one task per Bronze file
        # (the default above 32 paths) turns a 5 s listing into ~50 s at 4,300 files.
        .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "1000000")
        .config("spark.sql.warehouse.dir", str(system / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={metastore / 'metastore_db'};create=true",
        )
        .enableHiveSupport()
    )
    if driver_memory:
        builder = builder.config("spark.driver.memory", driver_memory)
    started = time.monotonic()
    first = SparkSession.getActiveSession() is None
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if first:
        _jvm_stderr_to_file(spark, system / "logs" / "spark-jvm.log")
    log.info(
        "spark session started", extra={"seconds": round(time.monotonic() - started, 2), "master": master}
    )
    return spark


def ensure_databases(spark, config) -> None:
    """Create the layer databases (``silver``, ``gold``, prefixed per environment)."""
    for layer in ("silver", "gold"):
        spark.sql(f"CREATE DATABASE IF NOT EXISTS {config.database(layer)} COMMENT 'lakehouse {layer} layer'")


@dataclass
class JobRuntime:
    """A running job's Spark session and, under Glue, its GlueContext and Job."""

    spark: object
    glue_job: object | None = None
    committed: bool = field(default=False)

    @property
    def on_glue(self) -> bool:
        return self.glue_job is not None

    def commit(self) -> None:
        """Commit the run (``Job.commit`` under Glue); only after everything was written."""
        if self.glue_job is not None and not self.committed:
            self.glue_job.commit()
        self.committed = True


def _glue_session(config, argv_for_glue: dict[str, str]):
    """Session and Job under AWS Glue (the only place a GlueContext is made)."""
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from pyspark.context import SparkContext

    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(config.JOB_NAME, argv_for_glue)
    return glue_context.spark_session, job


def glue_connection_jdbc(connection_name: str) -> dict[str, str]:
    """``url`` (with the database), ``user`` and ``password`` of a Glue JDBC connection, as Glue
    resolves them (its Secrets Manager reference included); only under Glue."""
    if not (on_glue_host() and _glue_runtime_available()):
        raise RuntimeSetupError(
            f"the Glue connection {connection_name!r} can be resolved only under AWS Glue; "
            "locally, give --jdbc_url and --jdbc_user"
        )
    from awsglue.context import GlueContext
    from pyspark.context import SparkContext

    conf = GlueContext(SparkContext.getOrCreate()).extract_jdbc_conf(connection_name)
    return {
        "url": conf.get("fullUrl") or conf["url"],
        "user": conf.get("user", ""),
        "password": conf.get("password", ""),
    }


def _glue_runtime_available() -> bool:
    """awsglue importable and the Glue JVM classes on the classpath (Glue, Glue Docker image)."""
    try:
        import awsglue.context  # noqa: F401
    except Exception:  # noqa: BLE001 - not on Glue
        return False
    from pyspark import SparkContext

    sc = SparkContext.getOrCreate()
    try:
        sc._jvm.java.lang.Class.forName(GLUE_CONTEXT_CLASS)
    except Exception:  # noqa: BLE001
        return False
    return True


def on_glue_host() -> bool:
    # Glue and the Glue Docker image put the Glue ETL jars on the Spark classpath; a
    # plain pyspark install never does. Checking before starting a JVM keeps local runs
    # from launching one JVM without our jars.
    return any(
        Path(p).is_dir()
        for p in ("/opt/amazon/lib", "/opt/aws-glue-libs/jars", "/home/glue_user/aws-glue-libs")
    )


@contextlib.contextmanager
def job_runtime(config, *, driver_memory: str | None = None) -> Iterator[JobRuntime]:
    """Start Spark for a job run, and always shut down Py4J's callback server at the end."""
    glue_job = None
    if on_glue_host() and _glue_runtime_available():
        spark, glue_job = _glue_session(config, {"JOB_NAME": config.JOB_NAME})
        for key, value in (
            ("spark.sql.session.timeZone", "UTC"),
            ("spark.sql.ansi.enabled", "true"),
            ("spark.sql.maxPlanStringLength", PLAN_STRING_LIMIT),
        ):
            spark.conf.set(key, value)
    else:
        spark = local_spark_session(config.lake_root, app_name=config.JOB_NAME, driver_memory=driver_memory)
    ensure_databases(spark, config)
    runtime = JobRuntime(spark=spark, glue_job=glue_job)
    try:
        yield runtime
    finally:
        if not _SEVERAL_JOBS:
            shutdown_callback_server(spark)


_SEVERAL_JOBS: list[object] = []


@contextlib.contextmanager
def several_jobs() -> Iterator[None]:
    """Keep Py4J's callback server up between the jobs of one process (a workflow run).

    Once shut down, the callback server of PySpark's pinned-thread gateway does not come back,
    so a second job's ``foreachBatch`` could not be called; it is shut down once, at the end.
    """
    token = object()
    _SEVERAL_JOBS.append(token)
    try:
        yield
    finally:
        _SEVERAL_JOBS.remove(token)
        if not _SEVERAL_JOBS:
            from pyspark.sql import SparkSession

            active = SparkSession.getActiveSession()
            if active is not None:
                shutdown_callback_server(active)


def shutdown_callback_server(spark) -> None:
    """Stop Py4J's callback server (used by foreachBatch and pydeequ) so the process can exit.

    A connection thread of the callback server sits in a blocking read; closing its
    buffered stream first (as py4j does) would wait for that read forever, so each
    connection's socket is shut down before py4j's own shutdown.
    """
    gateway = getattr(spark.sparkContext, "_gateway", None)
    if gateway is None:
        return
    server = getattr(gateway, "_callback_server", None)
    for connection in list(getattr(server, "connections", ()) or ()):
        sock = getattr(connection, "socket", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        gateway.shutdown_callback_server()
