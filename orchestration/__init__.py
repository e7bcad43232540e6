"""What runs when: the scheduler's definitions (Dagster).

- `airbyte.py`: one asset per connection of the Airbyte workspace file (`["airbyte", connection]`), its sync
  the one `lakehouse airbyte sync` runs, upstream of the `airbyte_landing` streams that name it;
- `bronze.py`: one asset per loader stream (`["bronze", source, stream]`), retried with backoff;
- `dbt.py`: every dbt model, snapshot and seed as assets (their tests as asset checks), wired to the loader
  assets through the dbt sources;
- `schedules.py`: one job and schedule per source frequency;
- `backfill.py`: the daily-partitioned job `backfill_loaded_days` (one run per day of a range rebuilds the
  silver rows loaded that day, then the marts) and `run_backfill`, behind `lakehouse orchestrate backfill`;
- `alerts.py`: the 2-hour SLA (freshness checks) and run-failure / SLA-miss alerts to the `lakehouse alerts`
  webhook;
- `definitions.py`: all of it as one `Definitions` (`dagster dev -m orchestration.definitions`, or
  `lakehouse orchestrate dev`).

The command line, the local platform and the demo live in `lakehouse/`; the synthetic company in
`company/`; source definitions in `sources/`.
"""
