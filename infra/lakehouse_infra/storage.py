"""Storage: the data key, the bronze/silver/gold buckets, the log and artifact buckets, Delta's log table.

Every data bucket is KMS-encrypted with the environment's key, versioned, TLS-only and private. Lifecycle:
objects tagged `classification=<value>` move to Glacier after `ARCHIVE_AFTER_DAYS` and expire after their
classification's retention (3-10 years). Live Delta files are not tagged: archiving or expiring a file a
table still references would corrupt it, so row retention in Delta tables is DELETE + VACUUM; the files
VACUUM removes become noncurrent versions, which go to Glacier after 30 days and expire later.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lakehouse_infra.config import LakehouseConfig
from lakehouse_infra.grants import object_finding
from lakehouse_infra.nag import suppress, wildcard_findings

LAYERS: tuple[str, ...] = ("bronze", "silver", "gold")
ARCHIVE_AFTER_DAYS = 180
NONCURRENT_TO_GLACIER_DAYS = 30
REPLICATION_MINUTES = 15


def removal_policy(config: LakehouseConfig) -> RemovalPolicy:
    return RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY


def replica_bucket_name(config: LakehouseConfig, layer: str) -> str:
    """The DR copy of a layer bucket, in the replica region (created by the replica stack)."""
    return f"{config.prefix}-{layer}-replica-{Aws.ACCOUNT_ID}-{config.replica_region}"


def replica_key_alias(config: LakehouseConfig) -> str:
    return f"alias/{config.prefix}-replica"


def classification_rules(config: LakehouseConfig) -> list[s3.LifecycleRule]:
    """One rule per classification: Glacier after ARCHIVE_AFTER_DAYS, expiry after the retention years."""
    return [
        s3.LifecycleRule(
            id=f"retain-{name}-{years}y",
            tag_filters={"classification": name},
            transitions=[
                s3.Transition(storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(ARCHIVE_AFTER_DAYS))
            ],
            expiration=Duration.days(365 * years),
        )
        for name, years in config.retention_years.items()
    ]


def housekeeping_rule(config: LakehouseConfig) -> s3.LifecycleRule:
    """Files Delta's VACUUM removed (noncurrent versions) and abandoned multipart uploads."""
    return s3.LifecycleRule(
        id="noncurrent-versions",
        abort_incomplete_multipart_upload_after=Duration.days(7),
        noncurrent_version_transitions=[
            s3.NoncurrentVersionTransition(
                storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(NONCURRENT_TO_GLACIER_DAYS)
            )
        ],
        noncurrent_version_expiration=Duration.days(config.noncurrent_version_days + NONCURRENT_TO_GLACIER_DAYS),
        expired_object_delete_marker=True,
    )


@dataclass
class Storage:
    key: kms.Key
    access_logs: s3.Bucket
    artifacts: s3.Bucket
    layers: dict[str, s3.Bucket]
    log_store: dynamodb.Table


class StorageConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, config: LakehouseConfig) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/{config.prefix}-data",
            description=f"Lakehouse {config.env}: buckets, log table, secrets, logs",
            enable_key_rotation=True,
            removal_policy=removal_policy(config),
        )
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com"))
        access_logs = self._access_log_bucket()
        layers = {layer: self._data_bucket(layer, key, access_logs) for layer in LAYERS}
        artifacts = self._bucket("Artifacts", key, access_logs, [housekeeping_rule(config)])
        self.storage = Storage(key, access_logs, artifacts, layers, self._log_store(key))
        if config.replication:
            self._replicate(layers, key)

    def _access_log_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            # S3 server access logging can only deliver to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(365))],
            removal_policy=removal_policy(self.config),
            auto_delete_objects=not self.config.retain,
        )
        suppress(bucket, {"AwsSolutions-S1": "This is the access-log bucket itself; logging it into itself loops."})
        return bucket

    def _data_bucket(self, layer: str, key: kms.Key, access_logs: s3.Bucket) -> s3.Bucket:
        rules = [*classification_rules(self.config), housekeeping_rule(self.config)]
        return self._bucket(layer.capitalize(), key, access_logs, rules)

    def _bucket(self, name: str, key: kms.Key, access_logs: s3.Bucket, rules: list[s3.LifecycleRule]) -> s3.Bucket:
        return s3.Bucket(
            self,
            name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{name.lower()}/",
            lifecycle_rules=rules,
            removal_policy=removal_policy(self.config),
            auto_delete_objects=not self.config.retain,
        )

    def _log_store(self, key: kms.Key) -> dynamodb.Table:
        """Delta's multi-cluster S3 commit table (S3DynamoDBLogStore; delta-rs uses the same schema)."""
        return dynamodb.Table(
            self,
            "DeltaLogStore",
            table_name=f"{self.config.prefix}-delta-log",
            partition_key=dynamodb.Attribute(name="tablePath", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="fileName", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expireTime",
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=self.config.retain,
            removal_policy=removal_policy(self.config),
        )

    def _replicate(self, layers: dict[str, s3.Bucket], key: kms.Key) -> None:
        """Cross-region replication with Replication Time Control (15 min) into the replica stack's buckets."""
        role = self._replication_role(layers, key)
        for layer, bucket in layers.items():
            cfn = bucket.node.default_child
            assert isinstance(cfn, s3.CfnBucket)
            # The role's ARN is the only link: a dependency on the role's policy, which names the buckets, would
            # be circular, and S3 checks the policy when it replicates, not when the bucket is configured.
            cfn.replication_configuration = s3.CfnBucket.ReplicationConfigurationProperty(
                role=role.role_arn, rules=[self._replication_rule(layer)]
            )

    def _replication_rule(self, layer: str) -> s3.CfnBucket.ReplicationRuleProperty:
        fifteen = s3.CfnBucket.ReplicationTimeValueProperty(minutes=REPLICATION_MINUTES)
        region = self.config.replica_region
        return s3.CfnBucket.ReplicationRuleProperty(
            id=f"dr-{layer}",
            status="Enabled",
            priority=1,
            filter=s3.CfnBucket.ReplicationRuleFilterProperty(prefix=""),
            delete_marker_replication=s3.CfnBucket.DeleteMarkerReplicationProperty(status="Enabled"),
            source_selection_criteria=s3.CfnBucket.SourceSelectionCriteriaProperty(
                sse_kms_encrypted_objects=s3.CfnBucket.SseKmsEncryptedObjectsProperty(status="Enabled")
            ),
            destination=s3.CfnBucket.ReplicationDestinationProperty(
                bucket=f"arn:{Aws.PARTITION}:s3:::{replica_bucket_name(self.config, layer)}",
                encryption_configuration=s3.CfnBucket.EncryptionConfigurationProperty(
                    replica_kms_key_id=f"arn:{Aws.PARTITION}:kms:{region}:{Aws.ACCOUNT_ID}:{replica_key_alias(self.config)}"
                ),
                replication_time=s3.CfnBucket.ReplicationTimeProperty(status="Enabled", time=fifteen),
                metrics=s3.CfnBucket.MetricsProperty(status="Enabled", event_threshold=fifteen),
            ),
        )

    def _replica_names_for_nag(self) -> list[str]:
        """Replica bucket names as cdk-nag prints them (pseudo parameters as `<AWS::AccountId>`)."""
        return [
            f"{self.config.prefix}-{layer}-replica-<AWS::AccountId>-{self.config.replica_region}" for layer in LAYERS
        ]

    def _replication_role(self, layers: dict[str, s3.Bucket], key: kms.Key) -> iam.Role:
        role = iam.Role(self, "ReplicationRole", assumed_by=iam.ServicePrincipal("s3.amazonaws.com"))
        sources = list(layers.values())
        replicas = [f"arn:{Aws.PARTITION}:s3:::{replica_bucket_name(self.config, layer)}/*" for layer in layers]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetReplicationConfiguration", "s3:ListBucket"], resources=[b.bucket_arn for b in sources]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                resources=[b.arn_for_objects("*") for b in sources],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], resources=replicas
            )
        )
        key.grant_decrypt(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[f"arn:{Aws.PARTITION}:kms:{self.config.replica_region}:{Aws.ACCOUNT_ID}:key/*"],
                conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": replica_key_alias(self.config)}},
            )
        )
        replica_findings = [f"Resource::arn:<AWS::Partition>:s3:::{name}/*" for name in self._replica_names_for_nag()]
        suppress(
            role,
            {
                **wildcard_findings(
                    "Replication reads every object version of the layer buckets and writes any key of their replicas.",
                    *(object_finding(b) for b in sources),
                    *replica_findings,
                ),
                **wildcard_findings(
                    "The replica key lives in the replica stack and is known here only by its alias: key/* in the "
                    "replica region, narrowed to that alias by the kms:ResourceAliases condition.",
                    f"Resource::arn:<AWS::Partition>:kms:{self.config.replica_region}:<AWS::AccountId>:key/*",
                ),
            },
        )
        return role


class ReplicaBucketsConstruct(Construct):
    """The replica region's side of DR: its own KMS key (by alias) and one versioned bucket per layer."""

    def __init__(self, scope: Construct, construct_id: str, config: LakehouseConfig) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "ReplicaKey",
            alias=replica_key_alias(config),
            description=f"Lakehouse {config.env}: DR replicas",
            enable_key_rotation=True,
            removal_policy=removal_policy(config),
        )
        self.buckets = {layer: self._replica(config, layer, key) for layer in LAYERS}

    def _replica(self, config: LakehouseConfig, layer: str, key: kms.Key) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            f"{layer.capitalize()}Replica",
            bucket_name=replica_bucket_name(config, layer),
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            lifecycle_rules=[*classification_rules(config), housekeeping_rule(config)],
            removal_policy=removal_policy(config),
        )
        suppress(
            bucket,
            {"AwsSolutions-S1": "A DR replica written only by S3 replication; access is logged on the source bucket."},
        )
        return bucket
