"""The built wheel is all a Glue job needs: install it into a fresh virtualenv and run
a job entrypoint from it with spark-submit, outside the checkout."""

import shutil
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("lakehouse-*.whl")
    return built


def test_wheel_holds_the_library_and_its_declarative_assets(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "lakehouse/jobs/bronze_to_silver.py" in names
    assert "lakehouse/runtime.py" in names
    assert any(n.startswith("lakehouse/_assets/contracts/") and n.endswith(".json") for n in names)
    assert "lakehouse/_assets/jobs/bronze_to_silver/rulesets/ingest_accounting.dqdl" in names
    assert "lakehouse/_assets/experiments/schema/experiment.schema.json" in names
    assert "lakehouse/_assets/metrics/facts/bookings.yaml" in names
    assert not any(n.startswith(("tests/", "bench/", "infra/")) for n in names)
    assert not any(n.startswith("lakehouse/synthetic/") for n in names)  # tests, demo and bench only


def test_job_entrypoint_runs_from_the_wheel_with_spark_submit(wheel, tmp_path, spark):
    from lakehouse.synthetic.bronze import GeneratorSpec, generate_bronze

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", f"{wheel}[local]"],
        check=True,
        capture_output=True,
        timeout=900,
    )
    workdir = tmp_path / "glue"  # nothing of the checkout is importable from here
    workdir.mkdir()
    script = shutil.copy(REPO / "jobs" / "bronze_to_silver" / "bronze_to_silver.py", workdir)
    lake = tmp_path / "lake"
    report = generate_bronze(
        lake, GeneratorSpec(events=300, start=datetime(2026, 11, 20, 10, tzinfo=UTC), hours=2)
    )

    jars = ",".join(str(p) for p in sorted((REPO / ".jars").glob("*.jar")))
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "PYSPARK_PYTHON": str(venv / "bin" / "python"),
        "LAKEHOUSE_JARS_DIR": str(REPO / ".jars"),
        "SPARK_VERSION": "3.5",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [str(venv / "bin" / "spark-submit"), "--master", "local[2]", "--jars", jars, str(script),
         "--JOB_NAME", "bronze_to_silver", "--lake_root", str(lake), "--run_id", "from-wheel"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    # spark-submit hands the Python driver's stderr to the JVM's stdout
    output = done.stdout + done.stderr
    assert '"msg": "job finished"' in output and '"status": "SUCCEEDED"' in output

    run_log = spark.read.format("delta").load(f"{lake}/_system/run_log")
    (run,) = run_log.where("run_id = 'from-wheel'").collect()
    assert run.status == "SUCCEEDED"
    assert run.rows_in == report.lines and run.rows_out == report.total("expected_valid_unique")
    assert spark.read.format("delta").load(f"{lake}/silver/events").count() == run.rows_out
