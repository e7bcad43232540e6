"""The SQL analysts edit follows the house style (sqlfluff with the dbt templater, .sqlfluff)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers.spark import PROJECT_DIR, SparkServer


def test_models_pass_sqlfluff(spark_local: SparkServer) -> None:
    # The dbt templater compiles models, and `is_incremental()` asks the server whether tables exist.
    env = {**os.environ, "LAKEHOUSE_THRIFT_PORT": str(spark_local.endpoint.port)}
    done = subprocess.run(
        # Two processes: the dbt templater renders in this one while the other parses and lints.
        [
            sys.executable,
            "-m",
            "sqlfluff",
            "lint",
            "dbt/models",
            "--processes",
            "2",
            "--format",
            "github-annotation-native",
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
