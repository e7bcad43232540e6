"""The EMR cluster: Spark with Delta, the Glue catalog as metastore, the Thrift server dbt talks to.

Instance fleets: the primary and the core nodes on demand, task capacity from a diversified spot fleet
that managed scaling grows (on-demand capacity is capped at primary + core, so growth is spot).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_emr as emr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lakehouse_infra.config import LakehouseConfig
from lakehouse_infra.grants import grant_buckets, grant_key, grant_log_store
from lakehouse_infra.nag import suppress, wildcard_findings
from lakehouse_infra.network import EMR_MANAGED_TAG

THRIFT_PORT = 10001
GLUE_CLIENT_FACTORY = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
# Spot capacity is diversified over sizes that match m5.2xlarge (8 vCPU, 32 GiB) one for one.
SPOT_ALTERNATIVES = ("m5a", "m6i", "m6a", "m7i")
TLS_CERTIFICATES_KEY = "emr/tls/certificates.zip"


@dataclass(frozen=True)
class ClusterInputs:
    vpc: ec2.IVpc
    subnets: list[ec2.ISubnet]
    key: kms.IKey
    layers: dict[str, s3.Bucket]
    artifacts: s3.Bucket
    log_store: dynamodb.Table


def spark_configurations(config: LakehouseConfig, log_store_table: str) -> list[emr.CfnCluster.ConfigurationProperty]:
    """Delta on, Glue as the metastore, Delta's DynamoDB log store, the settings the local server uses too."""
    spark_defaults = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        # A bare min/max on a date column answered from Delta's log statistics fails under the Thrift server.
        "spark.databricks.delta.optimizeMetadataQuery.enabled": "false",
        "spark.delta.logStore.s3.impl": "io.delta.storage.S3DynamoDBLogStore",
        "spark.delta.logStore.s3a.impl": "io.delta.storage.S3DynamoDBLogStore",
        "spark.io.delta.storage.S3DynamoDBLogStore.ddb.tableName": log_store_table,
        "spark.io.delta.storage.S3DynamoDBLogStore.ddb.region": config.region,
    }
    return [
        emr.CfnCluster.ConfigurationProperty(
            classification="delta-defaults", configuration_properties={"delta.enabled": "true"}
        ),
        emr.CfnCluster.ConfigurationProperty(
            classification="spark-hive-site",
            configuration_properties={"hive.metastore.client.factory.class": GLUE_CLIENT_FACTORY},
        ),
        emr.CfnCluster.ConfigurationProperty(classification="spark-defaults", configuration_properties=spark_defaults),
    ]


def thrift_command() -> list[str]:
    """Spark's own Thrift server (this release has no Hive application), bound on every interface."""
    script = (
        "sudo -u spark /usr/lib/spark/sbin/start-thriftserver.sh "
        f"--hiveconf hive.server2.thrift.port={THRIFT_PORT} --hiveconf hive.server2.thrift.bind.host=0.0.0.0"
    )
    return ["bash", "-c", script]


class EmrConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: LakehouseConfig,
        inputs: ClusterInputs,
        thrift_clients: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.inputs = inputs
        self.instance_role = self._instance_role()
        service_role = self._service_role()
        groups = self._security_groups(thrift_clients)
        security = self._security_configuration()
        profile = iam.CfnInstanceProfile(self, "InstanceProfile", roles=[self.instance_role.role_name])
        self.cluster = emr.CfnCluster(
            self,
            "Cluster",
            name=f"{config.prefix}-spark",
            release_label=config.emr_release,
            applications=[emr.CfnCluster.ApplicationProperty(name=name) for name in ("Spark", "Delta")],
            configurations=spark_configurations(config, inputs.log_store.table_name),
            instances=self._instances(groups),
            managed_scaling_policy=self._managed_scaling(),
            job_flow_role=profile.ref,
            service_role=service_role.role_arn,
            security_configuration=security.ref,
            log_uri=inputs.artifacts.s3_url_for_object("emr/logs/"),
            log_encryption_kms_key_id=inputs.key.key_arn,
            visible_to_all_users=True,
            step_concurrency_level=2,
            scale_down_behavior="TERMINATE_AT_TASK_COMPLETION",
        )
        self._allow_service_role(service_role)
        self.thrift_step = emr.CfnStep(
            self,
            "ThriftServer",
            name="Start the Spark Thrift server",
            job_flow_id=self.cluster.ref,
            action_on_failure="CONTINUE",
            hadoop_jar_step=emr.CfnStep.HadoopJarStepConfigProperty(jar="command-runner.jar", args=thrift_command()),
        )
        suppress(
            self.cluster,
            {
                "AwsSolutions-EMR5": "No Kerberos: the Thrift server is reachable only from the orchestrator's "
                "security group inside the VPC, and data access is governed by Lake Formation grants.",
                "AwsSolutions-EMR6": "No SSH key pair: operators reach the nodes through SSM Session Manager "
                "(AmazonSSMManagedInstanceCore on the instance role), never SSH.",
                "AwsSolutions-EMR4": "Local disk encryption is on (EncryptionConfiguration."
                "AtRestEncryptionConfiguration.LocalDiskEncryptionConfiguration, KMS, EBS too; asserted by "
                "tests/infra). cdk-nag 3.0.2 looks for "
                "EnableAtRestEncryption outside EncryptionConfiguration, where EMR does not read it, so it cannot "
                "see the setting.",
            },
        )

    def _instances(self, groups: dict[str, ec2.SecurityGroup]) -> emr.CfnCluster.JobFlowInstancesConfigProperty:
        size = self.config.cluster
        return emr.CfnCluster.JobFlowInstancesConfigProperty(
            ec2_subnet_ids=[subnet.subnet_id for subnet in self.inputs.subnets],
            emr_managed_master_security_group=groups["primary"].security_group_id,
            emr_managed_slave_security_group=groups["worker"].security_group_id,
            service_access_security_group=groups["service"].security_group_id,
            additional_master_security_groups=[groups["thrift"].security_group_id],
            master_instance_fleet=self._fleet("primary", on_demand=1),
            core_instance_fleet=self._fleet("core", on_demand=size.core_nodes),
            task_instance_fleets=[self._spot_fleet()],
            keep_job_flow_alive_when_no_steps=True,
            termination_protected=self.config.retain,
        )

    def _fleet(self, name: str, *, on_demand: int) -> emr.CfnCluster.InstanceFleetConfigProperty:
        return emr.CfnCluster.InstanceFleetConfigProperty(
            name=name,
            target_on_demand_capacity=on_demand,
            instance_type_configs=[self._instance_type(self.config.cluster.instance_type)],
        )

    def _spot_fleet(self) -> emr.CfnCluster.InstanceFleetConfigProperty:
        size = self.config.cluster.instance_type.split(".", 1)[1]
        types = [self.config.cluster.instance_type, *(f"{family}.{size}" for family in SPOT_ALTERNATIVES)]
        return emr.CfnCluster.InstanceFleetConfigProperty(
            name="task-spot",
            target_spot_capacity=0,
            instance_type_configs=[self._instance_type(t) for t in types],
            launch_specifications=emr.CfnCluster.InstanceFleetProvisioningSpecificationsProperty(
                spot_specification=emr.CfnCluster.SpotProvisioningSpecificationProperty(
                    timeout_action="SWITCH_TO_ON_DEMAND",
                    timeout_duration_minutes=10,
                    allocation_strategy="price-capacity-optimized",
                )
            ),
        )

    @staticmethod
    def _instance_type(instance_type: str) -> emr.CfnCluster.InstanceTypeConfigProperty:
        volume = emr.CfnCluster.VolumeSpecificationProperty(size_in_gb=128, volume_type="gp3")
        return emr.CfnCluster.InstanceTypeConfigProperty(
            instance_type=instance_type,
            weighted_capacity=1,
            ebs_configuration=emr.CfnCluster.EbsConfigurationProperty(
                ebs_block_device_configs=[emr.CfnCluster.EbsBlockDeviceConfigProperty(volume_specification=volume)]
            ),
        )

    def _managed_scaling(self) -> emr.CfnCluster.ManagedScalingPolicyProperty:
        size = self.config.cluster
        on_demand = 1 + size.core_nodes
        return emr.CfnCluster.ManagedScalingPolicyProperty(
            compute_limits=emr.CfnCluster.ComputeLimitsProperty(
                unit_type="InstanceFleetUnits",
                minimum_capacity_units=on_demand,
                maximum_capacity_units=on_demand + size.max_spot_task_units,
                maximum_on_demand_capacity_units=on_demand,
                maximum_core_capacity_units=size.core_nodes,
            )
        )

    def _security_groups(self, thrift_clients: ec2.ISecurityGroup) -> dict[str, ec2.SecurityGroup]:
        """EMR manages the rules of the first three; `thrift` lets the orchestrator reach port 10001."""
        groups = {
            name: ec2.SecurityGroup(
                self, f"{name.capitalize()}Sg", vpc=self.inputs.vpc, description=f"EMR {name}", allow_all_outbound=True
            )
            for name in ("primary", "worker", "service", "thrift")
        }
        groups["thrift"].add_ingress_rule(
            thrift_clients, ec2.Port.tcp(THRIFT_PORT), "dbt and BI clients to the Thrift server"
        )
        for group in groups.values():
            Tags.of(group).add(EMR_MANAGED_TAG, "true")
        return groups  # fmt: skip

    def _security_configuration(self) -> emr.CfnSecurityConfiguration:
        key_arn = self.inputs.key.key_arn
        certificates = self.inputs.artifacts.s3_url_for_object(TLS_CERTIFICATES_KEY)
        encryption = {
            "EnableInTransitEncryption": True,
            "EnableAtRestEncryption": True,
            "InTransitEncryptionConfiguration": {
                "TLSCertificateConfiguration": {"CertificateProviderType": "PEM", "S3Object": certificates}
            },
            "AtRestEncryptionConfiguration": {
                "S3EncryptionConfiguration": {"EncryptionMode": "SSE-KMS", "AwsKmsKey": key_arn},
                "LocalDiskEncryptionConfiguration": {
                    "EncryptionKeyProviderType": "AwsKms",
                    "AwsKmsKey": key_arn,
                    "EnableEbsEncryption": True,
                },
            },
        }
        return emr.CfnSecurityConfiguration(
            self,
            "SecurityConfiguration",
            name=f"{self.config.prefix}-emr",
            security_configuration={
                "EncryptionConfiguration": encryption,
                "InstanceMetadataServiceConfiguration": {
                    "MinimumInstanceMetadataServiceVersion": 2,
                    "HttpPutResponseHopLimit": 2,
                },
            },
        )

    def _instance_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "InstanceRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")],
        )
        object_findings = grant_buckets(role, [*self.inputs.layers.values(), self.inputs.artifacts])
        grant_key(role, self.inputs.key)
        grant_log_store(role, self.inputs.log_store)
        role.add_to_policy(glue_catalog_statement())
        # Lake Formation vends data access for registered locations; the action only takes resource *.
        role.add_to_policy(iam.PolicyStatement(actions=["lakeformation:GetDataAccess"], resources=["*"]))
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": "Lakehouse"}},
            )
        )
        glue = "arn:<AWS::Partition>:glue:<AWS::Region>:<AWS::AccountId>"
        suppress(
            role,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]": (
                    "The documented minimum for Session Manager access to the nodes (instead of SSH keys)."
                ),
                **wildcard_findings("Spark reads and writes any table under the layer buckets.", *object_findings),
                **wildcard_findings(
                    "dbt creates databases and tables in this account's Glue catalog at run time.",
                    f"Resource::{glue}:database/*",
                    f"Resource::{glue}:table/*",
                    f"Resource::{glue}:userDefinedFunction/*",
                ),
                **wildcard_findings(
                    "lakeformation:GetDataAccess only takes resource *; PutMetricData has no resource and is "
                    "limited to the Lakehouse namespace by condition.",
                    "Resource::*",
                ),
            },
        )
        return role

    def _service_role(self) -> iam.Role:
        role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal("elasticmapreduce.amazonaws.com"),
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AmazonEMRServicePolicy_v2")],
        )
        role.add_to_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=[self.instance_role.role_arn]))
        policy = "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEMRServicePolicy_v2"
        suppress(
            role,
            {
                f"AwsSolutions-IAM4[Policy::{policy}]": "The EMR service role policy AWS maintains; it only acts on "
                "resources tagged for-use-with-amazon-emr-managed-policies (the VPC and the cluster's groups).",
            },
        )
        return role

    def _allow_service_role(self, service_role: iam.Role) -> None:
        """EMR encrypts the nodes' EBS volumes with the data key on the service role's behalf."""
        self.inputs.key.grant(
            service_role,
            "kms:CreateGrant",
            "kms:Decrypt",
            "kms:Encrypt",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:ReEncryptFrom",
            "kms:ReEncryptTo",
            "kms:DescribeKey",
        )


def glue_catalog_statement() -> iam.PolicyStatement:
    """Glue Data Catalog access for Spark's metastore client, within this account's catalog."""
    prefix = f"arn:{Aws.PARTITION}:glue:{Aws.REGION}:{Aws.ACCOUNT_ID}"
    return iam.PolicyStatement(
        actions=[
            "glue:GetDatabase",
            "glue:GetDatabases",
            "glue:CreateDatabase",
            "glue:UpdateDatabase",
            "glue:GetTable",
            "glue:GetTables",
            "glue:CreateTable",
            "glue:UpdateTable",
            "glue:DeleteTable",
            "glue:GetPartition",
            "glue:GetPartitions",
            "glue:BatchGetPartition",
            "glue:BatchCreatePartition",
            "glue:CreatePartition",
            "glue:UpdatePartition",
            "glue:DeletePartition",
            "glue:BatchDeletePartition",
            "glue:GetUserDefinedFunctions",
        ],
        resources=[f"{prefix}:catalog", f"{prefix}:database/*", f"{prefix}:table/*", f"{prefix}:userDefinedFunction/*"],
    )
