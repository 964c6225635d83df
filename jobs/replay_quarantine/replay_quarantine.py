"""AWS Glue entrypoint of the replay_quarantine job (started by hand, after a contract fix).

Glue, the Glue Docker image and spark-submit all run this file with Glue-style
arguments, e.g. ``--JOB_NAME replay_quarantine --lake_root s3://bucket/lake
--pii_secret_id arn:... --error_type unknown_event``: the same arguments as bronze_to_silver,
plus ``--error_type``. The work itself lives in ``lakehouse.jobs.replay_quarantine``.
"""

import sys

from lakehouse.entrypoint import glue_main

if __name__ == "__main__":
    sys.exit(glue_main("replay_quarantine", sys.argv[1:]))
