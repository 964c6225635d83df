"""Build functions of the Gold marts, one module per area.

Each function takes a :class:`~lakehouse.marts.BuildContext` and returns the rebuilt rows
of one mart (a DataFrame, or :class:`~lakehouse.marts.MartRows` for entity marts); what a
mart is (grain, keys, columns, inputs and their offsets) is its spec under
``jobs/silver_to_gold/marts/``.

- :mod:`~lakehouse.gold.identity`: anon_id -> user_id stitching, person keys;
- :mod:`~lakehouse.gold.activity`: person x day facts, persons, DAU / WAU / MAU;
- :mod:`~lakehouse.gold.sessions`: sessions;
- :mod:`~lakehouse.gold.funnels`: funnels defined as data (the booking funnel);
- :mod:`~lakehouse.gold.retention`: cohort retention;
- :mod:`~lakehouse.gold.bookings`: one row per lbg, bookings / GMV, refunds, complaints;
- :mod:`~lakehouse.gold.email`: SES deliverability;
- :mod:`~lakehouse.gold.ops`: freshness, quarantine, DQ outcomes, job runs, SLO status;
- :mod:`~lakehouse.gold.orphans`: bad Silver input counted per rule.
"""
