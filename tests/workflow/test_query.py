"""lakehouse sql and lakehouse tables over the catalog, like Athena."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from lakehouse.cli import main
from lakehouse.lake import delta
from lakehouse.workflow.query import QueryError, format_rows, list_tables, run_query, spec_descriptions


@pytest.fixture(scope="module")
def catalog(spark, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("q") / "wf_query_orders")
    spark.sql("CREATE DATABASE IF NOT EXISTS gold")
    spark.createDataFrame(
        [("a", 1250, "EUR"), ("b", 300, "JPY"), ("c", None, "EUR")],
        "id STRING, amount_minor BIGINT, currency STRING",
    ).write.format("delta").mode("overwrite").save(path)
    delta.register_table(spark, "gold.wf_query_orders", path, comment="Orders, one row per order.")
    yield "gold.wf_query_orders"
    spark.sql("DROP TABLE IF EXISTS gold.wf_query_orders")


def test_tables_lists_row_counts_and_descriptions_from_the_specs(spark, catalog):
    info = {t.name: t for t in list_tables(spark, descriptions={catalog: "Orders, one row per order."})}
    assert info[catalog].rows == 3
    assert info[catalog].description == "Orders, one row per order."
    assert spec_descriptions()["silver.events"].startswith("Every valid event")


def test_registering_an_existing_table_adds_no_delta_commit(spark, catalog):
    """A commit after the audited one would move the table past its audit watermark."""
    path = spark.sql(f"DESCRIBE DETAIL {catalog}").collect()[0]["location"]
    before = delta.current_version(spark, path)
    spark.sql(f"DROP TABLE {catalog}")
    delta.register_table(spark, catalog, path, comment="Orders, one row per order.")
    assert delta.current_version(spark, path) == before == 0


def test_query_results_as_table_csv_and_json(spark, catalog):
    columns, rows, truncated = run_query(
        spark, f"select currency, sum(amount_minor) as total_minor from {catalog} group by 1 order by 1"
    )
    assert (columns, rows, truncated) == (["currency", "total_minor"], [("EUR", 1250), ("JPY", 300)], False)
    assert format_rows(columns, rows, "table").splitlines() == [
        "currency | total_minor",
        "---------+------------",
        "EUR      |        1250",
        "JPY      |         300",
        "(2 rows)",
    ]
    assert format_rows(columns, rows, "csv") == "currency,total_minor\nEUR,1250\nJPY,300\n"
    assert [json.loads(x) for x in format_rows(columns, rows, "json").splitlines()] == [
        {"currency": "EUR", "total_minor": 1250},
        {"currency": "JPY", "total_minor": 300},
    ]
    assert format_rows(["n"], [(Decimal("12"),), (None,)], "table").splitlines()[2:4] == ["  12", "NULL"]


def test_limit_truncates_and_says_so(spark, catalog):
    _, rows, truncated = run_query(spark, f"select * from {catalog}", limit=2)
    assert len(rows) == 2 and truncated


def test_a_bad_query_is_one_line(spark, catalog):
    with pytest.raises(QueryError) as failed:
        run_query(spark, "select * from gold.no_such_table")
    assert "TABLE_OR_VIEW_NOT_FOUND" in str(failed.value) and "\n" not in str(failed.value)


def test_the_sql_command_prints_only_data_on_stdout(spark, catalog, session_lake, capsys):
    code = main(
        ["sql", "--lake-root", str(session_lake), "--format", "csv", f"select id from {catalog} order by id"]
    )
    assert code == 0
    assert capsys.readouterr().out == "id\na\nb\nc\n"
    assert main(["sql", "--lake-root", str(session_lake), "select * from nowhere.x"]) == 1
    assert "lakehouse sql: error:" in capsys.readouterr().err
