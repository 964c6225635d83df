"""Delta Lake round trip on the real jars: write, MERGE, time travel, idempotent txn writes."""

from chispa import assert_df_equality
from lakehouse.lake import delta
from pyspark.sql import functions as F


def test_write_merge_time_travel_round_trip(spark, lake):
    path = f"{lake}/silver/accounts"
    first = spark.createDataFrame(
        [(1, "open", 100), (2, "open", 250)], "id INT, status STRING, balance_minor BIGINT"
    )
    delta.append(first, path)

    changes = spark.createDataFrame(
        [(2, "closed", 0), (3, "open", 75)], "id INT, status STRING, balance_minor BIGINT"
    )
    from delta.tables import DeltaTable

    (
        DeltaTable.forPath(spark, path)
        .alias("t")
        .merge(changes.alias("s"), "t.id = s.id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )

    expected_now = spark.createDataFrame(
        [(1, "open", 100), (2, "closed", 0), (3, "open", 75)], "id INT, status STRING, balance_minor BIGINT"
    )
    current = spark.read.format("delta").load(path)
    assert_df_equality(current, expected_now, ignore_row_order=True, ignore_nullable=True)

    version_zero = spark.read.format("delta").option("versionAsOf", 0).load(path)
    assert_df_equality(version_zero, first, ignore_row_order=True, ignore_nullable=True)
    history = DeltaTable.forPath(spark, path).history().select("version", "operation").orderBy("version")
    assert [r.operation for r in history.collect()] == ["WRITE", "MERGE"]


def test_append_with_same_txn_is_applied_once(spark, lake):
    path = f"{lake}/t"
    rows = spark.createDataFrame([(1,), (2,)], "id INT")
    delta.append(rows, path, txn=("writer-a", 5))
    delta.append(rows, path, txn=("writer-a", 5))  # a retried micro-batch
    delta.append(rows, path, txn=("writer-a", 4))  # an older one
    assert spark.read.format("delta").load(path).count() == 2
    assert delta.applied_txn_version(spark, path, "writer-a") == 5
    delta.append(rows, path, txn=("writer-a", 6))
    assert spark.read.format("delta").load(path).count() == 4


def test_merge_inside_dml_transaction_is_applied_once(spark, lake):
    path = f"{lake}/counter"
    delta.append(spark.createDataFrame([(1, 0)], "id INT, n BIGINT"), path)
    from delta.tables import DeltaTable

    for _ in range(2):  # the same batch twice
        with delta.dml_transaction(spark, ("counter-job", 1)):
            DeltaTable.forPath(spark, path).update(set={"n": F.col("n") + 1})
    assert spark.read.format("delta").load(path).first()["n"] == 1


def test_register_table_is_visible_in_the_catalog_and_repointed(spark, lake):
    first, second = f"{lake}/a", f"{lake}/b"
    delta.append(spark.createDataFrame([(1,)], "id INT"), first)
    delta.append(spark.createDataFrame([(1,), (2,)], "id INT"), second)
    delta.register_table(spark, "silver.test_registered", first, comment="a test table")
    assert spark.table("silver.test_registered").count() == 1
    delta.register_table(spark, "silver.test_registered", second)
    assert spark.table("silver.test_registered").count() == 2
