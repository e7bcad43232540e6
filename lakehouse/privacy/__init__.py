"""Privacy operations on the lakehouse: erasure of a data subject (GDPR art. 17 / CCPA) and retention.

- `subjects.py` / `subjects.yml`: where a person is held (bronze email columns, record ids, layer rules),
  the PII salt and the salted hash, computed exactly as dbt's `mask_pii` does;
- `erasure.py`: `erase()`, from bronze (delta-rs) to silver, snapshots and marts (Spark over Thrift),
  optional vacuum of exactly the erased tables, audit record and request log;
- `audit.py`: the Delta tables `<root>/privacy/_erasure_audit` and `<root>/privacy/_erasure_requests`;
- `retention.py` / `retention.yml`: years per classification, applied to bronze by `_loaded_at` (delta-rs) and to
  silver, snapshots and marts by each layer's date columns (Spark `DELETE`); dry run by default;
- `spark_tables.py`: listing, counting and deleting rows of the layers' Delta tables through Thrift.

The command line is `lakehouse privacy erase|retention` (lakehouse/cli/privacy.py).
"""
