"""cdk-nag (v3) acknowledgments: each exception sits on the construct it concerns, with its reason.

cdk-nag 3 runs as a CDK policy-validation plugin: synthesis fails on any finding that is not
acknowledged. Findings of rules that report several per resource (IAM4, IAM5) are acknowledged one by
one, by their full id (`AwsSolutions-IAM5[Resource::*]`).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def suppress(construct: IConstruct, reasons: dict[str, str]) -> None:
    """Acknowledge the findings in `reasons` (finding id -> why it does not apply) on `construct` and below."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in reasons.items()))


def wildcard_findings(reason: str, *findings: str) -> dict[str, str]:
    """IAM5 acknowledgments, one per finding (`Resource::*`, `Action::s3:List*`, ...), all for `reason`."""
    return {f"AwsSolutions-IAM5[{finding}]": reason for finding in findings}
