"""Incremental, exactly-once reading of Bronze files, and splitting them into records.

Each channel is read by Spark's file stream source with ``Trigger.AvailableNow``: a
run processes every file that arrived since the last one, in micro-batches, and the
checkpoint under ``_system/checkpoints`` remembers which files are done. Files are
read whole (``wholetext``), so each record keeps its file and line number; gzip is
decompressed by extension.

Example::

    stream = bronze_file_stream(spark, paths, "collect", max_files_per_trigger=1000)
    lines = files_df.transform(split_into_lines)
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse.lake.paths import LakePaths

# bronze/<channel>/YYYY/MM/DD/HH/<file>
ARRIVAL_HOUR_PATTERN = r"/(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+$"


def channel_glob(paths: LakePaths, channel: str) -> str:
    """The glob matching every Bronze file of a channel."""
    return paths.bronze(channel) + "/*/*/*/*/*"


def bronze_file_stream(
    spark: SparkSession, paths: LakePaths, channel: str, *, max_files_per_trigger: int
) -> DataFrame:
    """A stream of whole Bronze files of one channel: columns ``bronze_file``, ``content``.

    Spark skips names starting with ``.`` or ``_``, so files still being written under
    such a temporary name are not read before they are complete.
    """
    return (
        spark.readStream.format("text")
        .option("wholetext", "true")
        .option("maxFilesPerTrigger", str(max_files_per_trigger))
        .load(channel_glob(paths, channel))
        .select(F.input_file_name().alias("bronze_file"), F.col("value").alias("content"))
    )


def arrival_hour(bronze_file: Column) -> Column:
    """The UTC arrival hour encoded in a Bronze file's folder, as a timestamp."""
    parts = [F.regexp_extract(bronze_file, ARRIVAL_HOUR_PATTERN, i) for i in range(1, 5)]
    text = F.concat(
        parts[0], F.lit("-"), parts[1], F.lit("-"), parts[2], F.lit(" "), parts[3], F.lit(":00:00")
    )
    return F.try_to_timestamp(text, F.lit("yyyy-MM-dd HH:mm:ss"))


def split_into_lines(files: DataFrame, channel: str) -> DataFrame:
    """Whole files -> one row per record: ``value, channel, bronze_file, bronze_line, received_hour``.

    Lines are numbered from 1. Blank lines (such as the one after a final newline) are
    not records and are not returned; an empty file yields no rows.
    """
    exploded = files.select(
        "bronze_file",
        F.posexplode(F.split(F.col("content"), "\n")).alias("pos", "line"),
    )
    return exploded.where(F.trim(F.col("line")) != "").select(
        F.regexp_replace(F.col("line"), "\r$", "").alias("value"),
        F.lit(channel).alias("channel"),
        F.col("bronze_file"),
        (F.col("pos") + 1).cast("long").alias("bronze_line"),
        arrival_hour(F.col("bronze_file")).alias("received_hour"),
    )
