"""Pinned runtime versions: the one place they are declared (AWS Glue 5.1).

``setup.py`` reads this file for the Python pins, the runtime checks the running
pyspark against it, and the deploy step names the same versions to Glue. The JVM
side (Delta, Deequ, the PostgreSQL driver) is pinned in ``pom.xml``.
"""

GLUE_VERSION = "5.1"
PYTHON = "3.11"
SPARK = "3.5.6"
SCALA_BINARY = "2.12"

# What a Glue job needs on top of the Glue 5.1 image (shipped with the wheel).
RUNTIME_REQUIREMENTS = [
    "pydeequ==1.7.0",
    "PyYAML>=6.0,<7",
    "jsonschema>=4.18,<5",  # the experiment registry and metric files are validated at run time
    "scipy>=1.13,<2",  # distributions of the experiment statistics
]

# The Glue runtime, reproduced locally (Glue provides these itself).
LOCAL_REQUIREMENTS = [
    "pyspark==3.5.6",
    "delta-spark==3.3.2",
    "numpy==1.26.4",
    "pandas==2.2.3",
    "pyarrow==17.0.0",
    "boto3==1.44.8",
    "awsglue-dev==2021.12.30",
    # The HTML report's charts: Vega-Lite rendered to SVG natively (Vega's own libraries in a
    # Rust build), so the report is static SVG with no script, CDN or network at view time.
    "vl-convert-python==1.9.0.post1",
    # The ledger (PostgreSQL) for local runs and tests: migrations, seeding, the snapshot export.
    "psycopg[binary]==3.3.6",
]

DEV_REQUIREMENTS = [
    "pytest==8.4.2",
    "pytest-timeout==2.4.0",
    "chispa==0.12.0",
    "hypothesis==6.170.17",
    "ruff==0.17.6",
    "moto[server]==5.2.5",
    "cfn-lint==1.58.0",
    "build==1.3.0",
    "wheel==0.45.1",  # setuptools 65 (the venv default) needs it for `build --no-isolation`
    "psutil==7.0.0",
    "websocket-client==1.9.2",  # the report test drives Debian's chromium over DevTools
    "deltalake==1.6.6",  # delta-rs: Gold tables are read by an engine other than Spark in tests
    "pre-commit==4.7.0",
    "pre-commit-hooks==6.0.0",  # the hooks of .pre-commit-config.yaml, run from .venv
]

# gbstats 0.8.0 (GrowthBook's stats engine) needs pandas < 2, so the test that checks the
# experiment statistics against it runs it in a virtualenv of its own (binary wheels only).
GBSTATS_REQUIREMENTS = [
    "gbstats==0.8.0",
    "pandas==1.5.3",
    "numpy==1.26.4",
    "scipy==1.17.1",
]

# checkov pins dependencies that clash with cfn-lint's, so it lives in its own virtualenv.
CHECKOV_REQUIREMENTS = [
    "checkov==3.3.30",
]
