"""Incremental, exactly-once reading of Bronze files, and splitting them into records.

One file stream reads every channel (``Trigger.AvailableNow``): a run processes every
file that arrived since the last one, in micro-batches that mix channels, and the
checkpoint under ``_system/checkpoints`` remembers which files are done. One stream
rather than one per channel means a run pays the stream's start, its file listing and
each table's commit once per micro-batch, not once per channel. Files are read whole
(``wholetext``), so each record keeps its file and line number; gzip is decompressed by
extension. A record's channel is the folder it arrived in:
``bronze/<collect|eventbridge|webhooks/<provider>>/YYYY/MM/DD/HH/<file>``; a webhook
folder of a provider without an adapter is read too (its records are quarantined).

Example::

    stream = bronze_file_stream(spark, paths, max_files_per_trigger=1000)
    lines = files_df.transform(split_into_lines)   # inside foreachBatch
"""

from __future__ import annotations

import re

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.lake.paths import LakePaths

# .../<channel>/YYYY/MM/DD/HH/<file>; channel = collect | eventbridge | webhooks/<provider>
ARRIVAL_PATTERN = r"/(collect|eventbridge|webhooks/[^/]+)/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$"


def bronze_glob(paths: LakePaths) -> str:
    """The glob matching every Bronze file of every channel."""
    hour_file = "*/*/*/*/*"  # YYYY/MM/DD/HH/<file>
    return paths.bronze() + f"/{{collect/{hour_file},eventbridge/{hour_file},webhooks/*/{hour_file}}}"


def bronze_file_stream(spark: SparkSession, paths: LakePaths, *, max_files_per_trigger: int) -> DataFrame:
    """A stream of whole Bronze files of all channels: columns ``bronze_file``, ``content``.

    Spark skips names starting with ``.`` or ``_``, so files still being written under
    such a temporary name are not read before they are complete.
    """
    return (
        spark.readStream.format("text")
        .option("wholetext", "true")
        .option("maxFilesPerTrigger", str(max_files_per_trigger))
        .load(bronze_glob(paths))
        .select(F.input_file_name().alias("bronze_file"), F.col("value").alias("content"))
    )


def batch_files(spark: SparkSession, checkpoint: str, batch_id: int) -> list[str]:
    """The files the stream assigned to micro-batch ``batch_id``, 0-byte ones included.

    Read from the file source's log in the checkpoint (``sources/0/<batch>``, or the
    ``<batch>.compact`` file every tenth batch, which also holds earlier batches' entries:
    only this batch's are collected). The batch's DataFrame cannot say: Spark's reader
    skips 0-byte files, and the batch reaches ``foreachBatch`` as an RDD.
    """
    jvm = spark.sparkContext._jvm
    path = f"{checkpoint}/sources/0/{batch_id}"
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    if not hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path):
        path = f"{path}.compact"
    entries = (  # JSON lines after a "v1" header line (which parses to nulls)
        spark.read.schema("path string, batchId long").json(path).where(F.col("batchId") == batch_id)
    )
    return sorted(r["path"] for r in entries.select("path").collect())


def read_bronze_files(spark: SparkSession, uris: list[str]) -> DataFrame:
    """Chosen Bronze files, read as the stream reads them: columns ``bronze_file``, ``content``."""
    return (
        spark.read.format("text")
        .option("wholetext", "true")
        .load(uris)
        .select(F.input_file_name().alias("bronze_file"), F.col("value").alias("content"))
    )


def file_channel(uri: str) -> str:
    """The channel of one Bronze file from its folder (as :func:`channel_of`, on the driver)."""
    match = re.search(ARRIVAL_PATTERN, uri)
    return match.group(1) if match else ""


def channel_of(bronze_file: Column) -> Column:
    """The channel a Bronze file arrived on, from its folder (``webhooks/stripe``, ...)."""
    return F.regexp_extract(bronze_file, ARRIVAL_PATTERN, 1)


def arrival_hour(bronze_file: Column) -> Column:
    """The UTC arrival hour encoded in a Bronze file's folder, as a timestamp."""
    parts = [F.regexp_extract(bronze_file, ARRIVAL_PATTERN, i) for i in range(2, 6)]
    text = F.concat(
        parts[0], F.lit("-"), parts[1], F.lit("-"), parts[2], F.lit(" "), parts[3], F.lit(":00:00")
    )
    return F.try_to_timestamp(text, F.lit("yyyy-MM-dd HH:mm:ss"))


def split_into_lines(files: DataFrame) -> DataFrame:
    """Whole files -> one row per record: ``value, channel, bronze_file, bronze_line, received_hour``.

    Lines are numbered from 1. Blank lines (such as the one after a final newline) are
    not records and are not returned; an empty file yields no rows.
    """
    # Channel and arrival hour are per file: derive them before the explode, not per line.
    exploded = files.select(
        "bronze_file",
        channel_of(F.col("bronze_file")).alias("channel"),
        arrival_hour(F.col("bronze_file")).alias("received_hour"),
        F.posexplode(F.split(F.col("content"), "\n")).alias("pos", "line"),
    )
    return exploded.where(F.trim(F.col("line")) != "").select(
        F.regexp_replace(F.col("line"), "\r$", "").alias("value"),
        "channel",
        "bronze_file",
        (F.col("pos") + 1).cast("long").alias("bronze_line"),
        "received_hour",
    )
