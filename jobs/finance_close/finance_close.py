"""AWS Glue entrypoint of the finance_close job.

Glue, the Glue Docker image and spark-submit all run this file with Glue-style
arguments, e.g. ``--JOB_NAME finance_close --lake_root s3://bucket/lake``. It parses them into
the job's typed config, gets a Spark session from the runtime, runs the job and
commits; the work itself lives in ``lakehouse.jobs.finance_close``.
"""

import sys

from lakehouse.entrypoint import glue_main

if __name__ == "__main__":
    sys.exit(glue_main("finance_close", sys.argv[1:]))
