"""Frames computed once and held by the executors, their plans cut (every layer uses them).

Example::

    staged = checkpointed(rows)      # one Spark job; later plans scan the held rows
    ...
    release_checkpoint(staged)       # frees the blocks (``unpersist`` does not reach them)
"""

from __future__ import annotations

from pyspark.sql import DataFrame


def checkpointed(df: DataFrame) -> DataFrame:
    """``df`` computed once and held by the executors, its plan cut to a scan of those rows.

    A cached plan would carry every upstream plan inside it, and Spark renders whole plans for
    its listeners on every action; a checkpoint's plan is one scan.
    """
    return df.localCheckpoint(eager=True)


def release_checkpoint(df: DataFrame) -> None:
    """Free the rows a local checkpoint holds (``unpersist`` does not reach them)."""
    df._jdf.queryExecution().analyzed().rdd().unpersist(False)
