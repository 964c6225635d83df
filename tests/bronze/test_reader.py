"""Bronze reader: one stream glob for every channel; channel and arrival hour from the folder."""

from datetime import datetime

from chispa import assert_df_equality
from lakehouse.bronze.reader import bronze_glob, split_into_lines
from lakehouse.lake.paths import LakePaths

COLLECT_FILE = "file:/l/bronze/collect/2026/11/20/06/a.json"


def test_the_glob_covers_direct_channels_and_every_webhook_provider():
    glob = bronze_glob(LakePaths("s3://lake"))
    assert glob == ("s3://lake/bronze/{collect/*/*/*/*/*,eventbridge/*/*/*/*/*,webhooks/*/*/*/*/*/*}")


def test_lines_carry_channel_file_line_and_arrival_hour(spark):
    files = spark.createDataFrame(
        [
            (COLLECT_FILE, '{"a": 1}\n\n{"b": 2}\r\n'),
            ("s3://l/bronze/webhooks/stripe/2026/11/20/07/b.json.gz", '{"c": 3}\n'),
            ("file:/l/bronze/webhooks/acme/2026/11/21/00/c.json", '{"d": 4}'),
            ("file:/l/bronze/eventbridge/2026/11/20/06/empty.json", ""),
        ],
        "bronze_file STRING, content STRING",
    )
    expected = spark.createDataFrame(
        [
            ('{"a": 1}', "collect", COLLECT_FILE, 1, datetime(2026, 11, 20, 6)),
            ('{"b": 2}', "collect", COLLECT_FILE, 3, datetime(2026, 11, 20, 6)),
            ('{"c": 3}', "webhooks/stripe", "s3://l/bronze/webhooks/stripe/2026/11/20/07/b.json.gz", 1,
             datetime(2026, 11, 20, 7)),
            ('{"d": 4}', "webhooks/acme", "file:/l/bronze/webhooks/acme/2026/11/21/00/c.json", 1,
             datetime(2026, 11, 21, 0)),
        ],
        "value STRING, channel STRING, bronze_file STRING, bronze_line LONG, received_hour TIMESTAMP",
    )  # fmt: skip
    assert_df_equality(split_into_lines(files), expected, ignore_row_order=True, ignore_nullable=True)
