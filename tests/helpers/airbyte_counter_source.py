#!/usr/bin/env python3
"""A minimal Airbyte source connector speaking the protocol (spec, check, discover, read), for tests.

One stream, `events`: records `{"id": n, "value": ...}` for n in 1..count, a per-stream STATE
message `{"offset": n}` every `state_every` records, and it resumes exactly after the offset of the
state it is given (unlike source-faker, whose mid-sync states cannot be resumed from).
`fail_after` makes a read fail with a TRACE error after that many records. `hang_after` makes it
hang after that many, waiting on a child process that sleeps (as a deadlocked worker pool would), and
`pid_file` names the file that child writes its process id to. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("--config")
    parser.add_argument("--catalog")
    parser.add_argument("--state")
    args = parser.parse_args()
    config = json.loads(Path(args.config).read_text()) if args.config else {}
    stream = {
        "name": "events",
        "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}, "value": {"type": "string"}}},
        "supported_sync_modes": ["full_refresh", "incremental"],
        "source_defined_cursor": True,
        "default_cursor_field": ["id"],
        "source_defined_primary_key": [["id"]],
    }
    if args.command == "spec":
        emit({"type": "SPEC", "spec": {"connectionSpecification": {"type": "object", "properties": {}}}})
    elif args.command == "check":
        status = "FAILED" if config.get("password") == "wrong" else "SUCCEEDED"
        emit({"type": "CONNECTION_STATUS", "connectionStatus": {"status": status, "message": "bad password"}})
    elif args.command == "discover":
        emit({"type": "CATALOG", "catalog": {"streams": [stream]}})
    elif args.command == "read":
        offset = 0
        if args.state:
            for state in json.loads(Path(args.state).read_text()):
                offset = state["stream"]["stream_state"]["offset"]
        count, every = int(config.get("count", 100)), int(config.get("state_every", 10))
        for n in range(offset + 1, count + 1):
            if config.get("hang_after") and n > int(config["hang_after"]):
                sleeper = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(3600)"
                subprocess.run([sys.executable, "-c", sleeper, config["pid_file"]], check=False)
            if config.get("fail_after") and n > int(config["fail_after"]):
                emit({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0, "error": {"message": "boom"}}})
                return 1
            record = {"id": n, "value": f"v{n}"}
            emit(
                {"type": "RECORD", "record": {"stream": "events", "data": record, "emitted_at": 1_700_000_000_000 + n}}
            )
            if n % every == 0 or n == count:
                descriptor = {"name": "events"}
                state = {"stream_descriptor": descriptor, "stream_state": {"offset": n}}
                emit({"type": "STATE", "state": {"type": "STREAM", "stream": state}})
            time.sleep(float(config.get("sleep", 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
