"""AWS Glue entrypoint of the silver_to_gold job.

Glue, the Glue Docker image and spark-submit all run this file with Glue-style
arguments, e.g. ``--JOB_NAME silver_to_gold --lake_root s3://bucket/lake``. It parses them into
the job's typed config, gets a Spark session from the runtime, runs the job and
commits; the work itself lives in ``lakehouse.jobs.silver_to_gold``.
"""

import sys

from lakehouse.entrypoint import glue_main

if __name__ == "__main__":
    sys.exit(glue_main("silver_to_gold", sys.argv[1:]))
