"""The runtime: local session settings, and a catalog that persists across processes."""

import subprocess
import sys
import textwrap

import pytest
from lakehouse.runtime import RuntimeSetupError, local_jars


def test_local_session_is_utc_ansi_small_and_has_delta_and_deequ(spark):
    conf = spark.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.ansi.enabled") == "true"
    assert spark.sparkContext.master == "local[2]"
    assert int(conf.get("spark.sql.shuffle.partitions")) <= 4
    assert conf.get("spark.sql.extensions") == "io.delta.sql.DeltaSparkSessionExtension"
    jvm = spark.sparkContext._jvm
    # A class that is not on the classpath comes back as a py4j JavaPackage.
    assert type(jvm.com.amazon.deequ.dqdl.EvaluateDataQuality).__name__ == "JavaClass"
    assert type(jvm.io.delta.tables.DeltaTable).__name__ == "JavaClass"
    assert {db.name for db in spark.catalog.listDatabases()} >= {"default"}


def test_missing_jars_give_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEHOUSE_JARS_DIR", str(tmp_path))
    with pytest.raises(RuntimeSetupError, match="make jars"):
        local_jars()


@pytest.mark.slow
def test_catalog_persists_across_processes(tmp_path):
    lake = tmp_path / "lake"
    register = textwrap.dedent(
        f"""
        from lakehouse.runtime import local_spark_session
        from lakehouse.lake import delta
        spark = local_spark_session({str(lake)!r})
        spark.sql("CREATE DATABASE IF NOT EXISTS silver")
        delta.append(spark.createDataFrame([(1,), (2,)], "id INT"), {str(lake / "silver" / "t")!r})
        delta.register_table(spark, "silver.t", {str(lake / "silver" / "t")!r}, comment="process one")
        """
    )
    read = textwrap.dedent(
        f"""
        from lakehouse.runtime import local_spark_session
        spark = local_spark_session({str(lake)!r})
        print("ROWS", spark.table("silver.t").count())
        """
    )
    for script in (register, read):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
    assert "ROWS 2" in done.stdout
