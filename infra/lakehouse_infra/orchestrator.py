"""The orchestrator's runtime: Dagster's webserver and daemon as one Fargate service, image from ECR.

Both containers load the project's `orchestration/workspace.yaml` (the image's working directory is the
project folder, orchestration/README.md) and share the task's DAGSTER_HOME volume. The webserver listens
on 3000 inside the VPC only (reach it with SSM port forwarding or a VPN); there is no load balancer and no
public address. The stack passes the EMR primary node's DNS name to both containers as the Thrift host
(`connect_thrift`), for dbt (EMR_THRIFT_HOST) and the `lakehouse` commands (LAKEHOUSE_THRIFT_HOST).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from lakehouse_infra.config import LakehouseConfig
from lakehouse_infra.grants import grant_buckets, grant_key, grant_log_store
from lakehouse_infra.monitoring import NAMESPACE as METRICS_NAMESPACE
from lakehouse_infra.nag import suppress, wildcard_findings

WEBSERVER_PORT = 3000
DAGSTER_HOME = "/opt/dagster/home"
WORKSPACE = "orchestration/workspace.yaml"  # relative to the image's working directory, the project folder


@dataclass(frozen=True)
class OrchestratorInputs:
    vpc: ec2.IVpc
    key: kms.IKey
    layers: dict[str, s3.Bucket]
    artifacts: s3.Bucket
    log_store: dynamodb.Table
    source_secrets: list[sm.ISecret]
    pii_salt: sm.ISecret


class OrchestratorConstruct(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, config: LakehouseConfig, inputs: OrchestratorInputs
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.inputs = inputs
        removal = RemovalPolicy.RETAIN if config.retain else RemovalPolicy.DESTROY
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=f"{config.prefix}-dagster",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=inputs.key,
            removal_policy=removal,
            empty_on_delete=not config.retain,
        )
        self.security_group = ec2.SecurityGroup(
            self, "Sg", vpc=inputs.vpc, description="Dagster webserver and daemon", allow_all_outbound=True
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.ipv4(inputs.vpc.vpc_cidr_block), ec2.Port.tcp(WEBSERVER_PORT), "Dagster UI from inside the VPC"
        )
        suppress(
            self.security_group,
            {
                "AwsSolutions-EC23": "The only ingress is port 3000 from the VPC's own CIDR; cdk-nag cannot "
                "resolve the CIDR token (Fn::GetAtt) and reports it as unverifiable, not as open."
            },
        )
        self.cluster = ecs.Cluster(self, "Cluster", vpc=inputs.vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=inputs.key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=removal
        )
        self.task_role = self._task_role()
        self.task_definition = self._task_definition()
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=1,  # the daemon must run exactly once
            min_healthy_percent=0,
            max_healthy_percent=100,
            security_groups=[self.security_group],
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            assign_public_ip=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )

    def _task_role(self) -> iam.Role:
        """What the loaders and dbt need from the orchestrator: buckets, the Delta log table, secrets, metrics."""
        role = iam.Role(self, "TaskRole", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
        object_findings = grant_buckets(role, [*self.inputs.layers.values(), self.inputs.artifacts])
        grant_key(role, self.inputs.key)
        grant_log_store(role, self.inputs.log_store)
        for secret in self.inputs.source_secrets:
            secret.grant_read(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )
        suppress(
            role,
            {
                **wildcard_findings("Loaders write any stream under the layer buckets.", *object_findings),
                **wildcard_findings(
                    "PutMetricData has no resource and is limited to the Lakehouse namespace by condition.",
                    "Resource::*",
                ),
            },
        )
        return role

    def _task_definition(self) -> ecs.FargateTaskDefinition:
        task = ecs.FargateTaskDefinition(self, "Task", cpu=1024, memory_limit_mib=4096, task_role=self.task_role)
        task.add_volume(name="dagster-home")
        image = ecs.ContainerImage.from_ecr_repository(self.repository, tag=self.config.dagster_image_tag)
        environment = {
            "DAGSTER_HOME": DAGSTER_HOME,
            "LAKEHOUSE_ENV": self.config.env,
            "LAKEHOUSE_ROOT": self.inputs.layers["bronze"].s3_url_for_object(),
            "DBT_TARGET": "emr",
            "AWS_S3_LOCKING_PROVIDER": "dynamodb",
            "DELTA_DYNAMO_TABLE_NAME": self.inputs.log_store.table_name,
            # `lakehouse load` and `lakehouse metrics publish` publish the alarms' metrics (monitoring.py).
            "LAKEHOUSE_CLOUDWATCH_NAMESPACE": METRICS_NAMESPACE,
        }
        secrets = {"LAKEHOUSE_PII_SALT": ecs.Secret.from_secrets_manager(self.inputs.pii_salt)}
        commands = {
            "webserver": ["dagster-webserver", "-w", WORKSPACE, "--host", "0.0.0.0", "--port", str(WEBSERVER_PORT)],
            "daemon": ["dagster-daemon", "run", "-w", WORKSPACE],
        }
        self.containers: list[ecs.ContainerDefinition] = []
        for name, command in commands.items():
            container = task.add_container(
                name,
                image=image,
                command=command,
                environment=environment,
                secrets=secrets,
                logging=ecs.LogDrivers.aws_logs(stream_prefix=name, log_group=self.log_group),
                port_mappings=[ecs.PortMapping(container_port=WEBSERVER_PORT)] if name == "webserver" else None,
                essential=True,
            )
            container.add_mount_points(
                ecs.MountPoint(container_path=DAGSTER_HOME, source_volume="dagster-home", read_only=False)
            )
            self.containers.append(container)
        suppress(
            task,
            {
                "AwsSolutions-ECS2": "The environment holds configuration only (bucket, table, target and Thrift "
                "host names, the metrics namespace); the one secret, the PII salt, comes from Secrets Manager.",
                **wildcard_findings(
                    "ecr:GetAuthorizationToken, in CDK's execution-role grant for the ECR pull, takes no resource.",
                    "Resource::*",
                ),
            },
        )
        return task

    def connect_thrift(self, host: str, port: int) -> None:
        """The Spark Thrift server both containers use: dbt's `emr` target and the `lakehouse` commands."""
        for container in self.containers:
            for prefix in ("EMR", "LAKEHOUSE"):
                container.add_environment(f"{prefix}_THRIFT_HOST", host)
                container.add_environment(f"{prefix}_THRIFT_PORT", str(port))
