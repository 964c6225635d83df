"""The workflow: one graph of jobs (``workflows/*.yaml``) run by Glue in AWS and by
:mod:`lakehouse.workflow.runner` locally."""
