"""The SQL analysts edit follows the house style (sqlfluff with the dbt templater, .sqlfluff)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.spark import PROJECT_DIR, SparkServer

# A lint takes about a minute here; a hung one fails the test instead of holding CI to its limit.
LINT_TIMEOUT = 900


def test_models_pass_sqlfluff(spark_local: SparkServer) -> None:
    # The dbt templater compiles models, and `is_incremental()` asks the server whether tables exist.
    env = {**os.environ, "LAKEHOUSE_THRIFT_PORT": str(spark_local.endpoint.port)}
    # One process: with the dbt templater, sqlfluff renders every file in the main process anyway, and
    # its worker pool (`--processes 2`) once hung at exit in CI, a worker blocked on the pool's queue.
    command = [sys.executable, "-m", "sqlfluff", "lint", "dbt/models", "--format", "github-annotation-native"]
    try:
        done = subprocess.run(
            command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=False, timeout=LINT_TIMEOUT
        )
    except subprocess.TimeoutExpired as hung:
        output = hung.stdout.decode(errors="replace") if isinstance(hung.stdout, bytes) else hung.stdout or ""
        pytest.fail(f"sqlfluff lint did not finish in {LINT_TIMEOUT} s; its output so far:\n{output[-4000:]}")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
