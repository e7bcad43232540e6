"""IAM grants spelled out action by action (instead of CDK's `grant_read_write` wildcards such as
`s3:GetObject*`), so the only wildcards left are object keys, which cdk-nag findings name per bucket."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")
OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey")


def grant_buckets(role: iam.IRole, buckets: list[s3.Bucket]) -> list[str]:
    """Read/write every object of `buckets`; returns the cdk-nag findings its `<bucket>/*` resources raise."""
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(BUCKET_ACTIONS), resources=[b.bucket_arn for b in buckets])
    )
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(OBJECT_ACTIONS), resources=[b.arn_for_objects("*") for b in buckets])
    )
    return [object_finding(bucket) for bucket in buckets]


def grant_key(role: iam.IRole, key: kms.IKey) -> None:
    key.grant(role, *KEY_ACTIONS)


def object_finding(bucket: s3.Bucket) -> str:
    """The finding id cdk-nag reports for a statement on `arn:...:<bucket>/*`."""
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    return f"Resource::<{Stack.of(bucket).get_logical_id(cfn)}.Arn>/*"


# What Delta's S3DynamoDBLogStore (Spark) and delta-rs's DynamoDB locking do with the commit table.
LOG_STORE_ACTIONS = (
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
)


def grant_log_store(role: iam.IRole, table: dynamodb.Table) -> None:
    """The commit table's items; its KMS key is granted separately (`grant_key`)."""
    table.grant(role, *LOG_STORE_ACTIONS)
