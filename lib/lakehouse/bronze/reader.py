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
