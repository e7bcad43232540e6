"""Synthesize the lakehouse's stacks: `python infra/app.py [-c env=prod] [-c key=value ...]` or `cdk synth`.

Run directly, the defaults of cdk.json's context apply and the templates go to infra/cdk.out; run by
the cdk CLI, the CLI passes the context and output folder itself.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aws_cdk import App
from lakehouse_infra.stack import build

HERE = Path(__file__).resolve().parent


def command_line_context(argv: list[str]) -> dict[str, Any]:
    """`-c key=value` pairs, as the cdk CLI takes them."""
    context: dict[str, Any] = {}
    for flag, pair in itertools.pairwise(argv):
        if flag in {"-c", "--context"} and "=" in pair:
            key, value = pair.split("=", 1)
            context[key] = value
    return context


def main(argv: list[str]) -> None:
    context = json.loads((HERE / "cdk.json").read_text())["context"] | command_line_context(argv)
    app = App(context=context, outdir=None if "CDK_OUTDIR" in os.environ else str(HERE / "cdk.out"))
    stacks = build(app)
    assembly = app.synth()
    for stack in stacks:
        print(f"{stack.stack_name}: {assembly.get_stack_by_name(stack.stack_name).template_full_path}")


if __name__ == "__main__":
    main(sys.argv[1:])
