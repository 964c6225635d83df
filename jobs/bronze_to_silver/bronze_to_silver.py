"""AWS Glue entrypoint of the bronze_to_silver job.

Glue, the Glue Docker image and spark-submit all run this file with Glue-style
arguments, e.g. ``--JOB_NAME bronze_to_silver --lake_root s3://bucket/lake``. It parses them into
the job's typed config, gets a Spark session from the runtime, runs the job and
commits; the work itself lives in ``lakehouse.jobs.bronze_to_silver``.
"""

import sys

from lakehouse.entrypoint import glue_main

if __name__ == "__main__":
    sys.exit(glue_main("bronze_to_silver", sys.argv[1:]))
