"""Audit watermarks: downstream reads stop at the last version whose blocking rules passed."""

import pytest
from lakehouse.lake import delta
from lakehouse.lake.audit import (
    AuditEntry,
    UnauditedInputError,
    audited_version,
    open_failures,
    read_audited,
    record_audit,
)
from lakehouse.lake.paths import LakePaths


def test_reads_stop_at_the_last_passed_version_and_failures_stay_open(spark, lake):
    paths = LakePaths(lake)
    path = paths.silver("things")
    for value in (1, 2, 3):  # versions 0, 1, 2
        delta.append(spark.createDataFrame([(value,)], "n INT"), path)
    with pytest.raises(UnauditedInputError, match=r"silver\.things has no audited version"):
        read_audited(spark, paths, "silver.things")

    record_audit(spark, paths, [AuditEntry("silver.things", 1, "passed", run_id="r1", job="j")])
    record_audit(
        spark,
        paths,
        [AuditEntry("silver.things", 2, "failed", run_id="r2", job="j", blocking_failures=1, reason="bad n")],
    )
    audited = read_audited(spark, paths, "silver.things")
    assert audited.version == 1
    assert sorted(r.n for r in audited.df.collect()) == [1, 2]
    assert [(f["version"], f["reason"]) for f in open_failures(spark, paths)] == [(2, "bad n")]

    override = AuditEntry("silver.things", 2, "overridden", run_id="r3", job="j", reason="ok")
    record_audit(spark, paths, [override])
    assert audited_version(spark, paths, "silver.things") == 2
    assert open_failures(spark, paths, "silver.things") == []


def test_an_entry_names_its_layer_and_a_known_status():
    with pytest.raises(ValueError, match=r"<layer>\.<table>"):
        AuditEntry("things", 1, "passed", run_id="r", job="j")
    with pytest.raises(ValueError, match="status"):
        AuditEntry("silver.things", 1, "fine", run_id="r", job="j")
