"""The stacks: `Lakehouse-<env>` in the primary region and, when replication is on, `LakehouseReplica-<env>`."""

from __future__ import annotations

import os
from typing import Any

from aws_cdk import App, CfnOutput, Environment, Stack, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from lakehouse_infra.access import AccessConstruct
from lakehouse_infra.catalog import CatalogConstruct
from lakehouse_infra.config import LakehouseConfig, load_config
from lakehouse_infra.emr import THRIFT_PORT, ClusterInputs, EmrConstruct
from lakehouse_infra.monitoring import MonitoringConstruct
from lakehouse_infra.network import NetworkConstruct
from lakehouse_infra.orchestrator import OrchestratorConstruct, OrchestratorInputs
from lakehouse_infra.secrets import SecretsConstruct
from lakehouse_infra.storage import ReplicaBucketsConstruct, StorageConstruct


class LakehouseStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, config: LakehouseConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = StorageConstruct(self, "Storage", config).storage
        network = NetworkConstruct(self, "Network", config, storage.key)
        secrets = SecretsConstruct(self, "Secrets", config, storage.key)
        catalog = CatalogConstruct(self, "Catalog", config, storage.layers)
        orchestrator = OrchestratorConstruct(
            self,
            "Orchestrator",
            config,
            OrchestratorInputs(
                network.vpc, storage.key, storage.layers, storage.artifacts, storage.log_store,
                list(secrets.sources.values()), secrets.pii_salt,
            ),
        )  # fmt: skip
        emr = EmrConstruct(
            self,
            "Emr",
            config,
            ClusterInputs(
                network.vpc, network.private_subnets, storage.key, storage.layers, storage.artifacts, storage.log_store
            ),
            thrift_clients=orchestrator.security_group,
        )
        # The primary node's DNS name (private: the cluster is in private subnets); a replaced cluster
        # gives a new name, and the task definition follows it.
        orchestrator.connect_thrift(emr.cluster.attr_master_public_dns, THRIFT_PORT)
        AccessConstruct(
            self,
            "Access",
            config,
            catalog.databases,
            catalog.cfn_databases,
            catalog.tags,
            pipeline_roles={"emr-cluster": emr.instance_role, "orchestrator": orchestrator.task_role},
        )
        MonitoringConstruct(self, "Monitoring", config, storage.key, emr.cluster)
        for layer, bucket in storage.layers.items():
            CfnOutput(self, f"{layer.capitalize()}Bucket", value=bucket.bucket_name)
        CfnOutput(self, "ThriftEndpoint", value=f"{emr.cluster.attr_master_public_dns}:{THRIFT_PORT}")
        CfnOutput(self, "DagsterRepository", value=orchestrator.repository.repository_uri)
        CfnOutput(self, "DeltaLogStoreTable", value=storage.log_store.table_name)


class ReplicaStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, config: LakehouseConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        ReplicaBucketsConstruct(self, "Replica", config)


def build(app: App, context: dict[str, Any] | None = None) -> list[Stack]:
    """Add the environment's stacks to `app` (context: the app's own, overridden by `context`) and nag them."""
    raw = {key: app.node.try_get_context(key) for key in ("env", *LakehouseConfig.model_fields)}
    merged = {k: v for k, v in raw.items() if v is not None} | (context or {})
    config = load_config(merged)
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    main = LakehouseStack(
        app, f"Lakehouse-{config.env}", config, env=Environment(account=account, region=config.region),
        description=f"Lakehouse {config.env}: S3 layers, Glue/Lake Formation, EMR, orchestrator, monitoring",
    )  # fmt: skip
    stacks: list[Stack] = [main]
    if config.replication:
        replica = ReplicaStack(
            app, f"LakehouseReplica-{config.env}", config,
            env=Environment(account=account, region=config.replica_region),
            description=f"Lakehouse {config.env}: DR replica buckets in {config.replica_region}",
        )  # fmt: skip
        main.add_stack_dependency(replica, "replication needs the replica buckets and key first")
        stacks.insert(0, replica)
    for stack in stacks:
        Tags.of(stack).add("project", "lakehouse")
        Tags.of(stack).add("environment", config.env)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))
    return stacks
