"""The platform around the loaders and the dbt project.

- `core/`: the shared core (errors, the lakehouse root, the home folder, the `Frequency` vocabulary),
  which imports nothing else of the project;
- `cli/`: the `lakehouse` command line, one module per command group;
- `platform/`: the local servers (Spark Thrift, SeaweedFS S3), their jars and processes;
- `catalog.py`: layer databases and bronze tables in the metastore;
- `dbt_runner.py`: dbt with the project's profiles;
- `demo.py`: the main job on the embedded default;
- `report/`: the observability report and alerts; `project_rules.py`: project-evaluator rules;
- `privacy/`: GDPR/CCPA erasure and retention; `airbyte/`: the Airbyte workspace as code;
- `source_files.py`: where source definitions are found.

Layering: `lakehouse.core` ← `loaders` ← the rest of `lakehouse` (and `company`, `orchestration`).
"""
