"""The AWS infrastructure as users of it would check it: synthesized offline for dev and prod, then the
templates inspected (encryption, public access, lifecycle, EMR, every role's grants, DR, alarms and the
metrics the project's publisher sends them), cdk-nag and cfn-lint gates, and the dbt-classification to
LF-Tag export run against moto's Lake Formation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import App, Stack, Validations
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks
from lakehouse_infra import lf_tags
from lakehouse_infra.config import RETENTION_YEARS, load_config
from lakehouse_infra.stack import build
from moto import mock_aws

from lakehouse.report import metrics

LAYER_IDS = {"bronze": "StorageBronze", "silver": "StorageSilver", "gold": "StorageGold"}


@dataclass
class Synth:
    env: str
    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack name -> template

    @property
    def main(self) -> Template:
        return Template.from_json(self.templates[f"Lakehouse-{self.env}"])

    @property
    def main_json(self) -> dict[str, Any]:
        return self.templates[f"Lakehouse-{self.env}"]

    def resources(self, kind: str, stack: str | None = None) -> dict[str, dict[str, Any]]:
        template = self.templates[stack or f"Lakehouse-{self.env}"]
        return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def synthesize(env: str, outdir: Path) -> Synth:
    """What `python infra/app.py -c env=<env>` does; synth raises if cdk-nag has unacknowledged findings."""
    app = App(outdir=str(outdir), context={"env": env})
    stacks = build(app)
    assembly = app.synth()
    templates = {
        s.stack_name: json.loads(Path(assembly.get_stack_by_name(s.stack_name).template_full_path).read_text())
        for s in stacks
    }
    return Synth(env, outdir, templates)


@pytest.fixture(scope="module")
def synths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synth]:
    return {env: synthesize(env, tmp_path_factory.mktemp(f"cdk-{env}")) for env in ("dev", "prod")}


@pytest.fixture(scope="module")
def dev(synths: dict[str, Synth]) -> Synth:
    return synths["dev"]


@pytest.fixture(scope="module")
def prod(synths: dict[str, Synth]) -> Synth:
    return synths["prod"]


def layer_buckets(synth: Synth) -> dict[str, dict[str, Any]]:
    buckets = synth.resources("AWS::S3::Bucket")
    return {layer: next(v for k, v in buckets.items() if k.startswith(prefix)) for layer, prefix in LAYER_IDS.items()}


# -- gates: synth, cdk-nag, cfn-lint ---------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_synth_offline_with_cdk_nag_clean(synths: dict[str, Synth], env: str) -> None:
    synth = synths[env]
    expected = {f"Lakehouse-{env}"} | ({f"LakehouseReplica-{env}"} if env == "prod" else set())
    assert set(synth.templates) == expected
    report = synth.outdir / "validation-report.json"
    if report.exists():  # written on success too by some versions: then every plugin must have passed
        conclusions = {p["pluginName"]: p["conclusion"] for p in json.loads(report.read_text())["pluginReports"]}
        assert set(conclusions.values()) == {"success"}, conclusions


def test_cdk_nag_gate_fails_an_unjustified_finding(tmp_path: Path) -> None:
    """The gate above is not vacuous: an unencrypted, unlogged bucket without acknowledgment stops synth."""
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Careless")
    s3.Bucket(stack, "Plain")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    rules = {v["ruleName"] for p in report["pluginReports"] for v in p["violations"]}
    assert {"AwsSolutions-S1", "AwsSolutions-S10"} <= rules


def test_cfn_lint_has_no_errors(synths: dict[str, Synth]) -> None:
    from cfnlint.api import lint_file

    problems = []
    for synth in synths.values():
        for name in synth.templates:
            for match in lint_file(synth.outdir / f"{name}.template.json"):
                if match.rule.severity == "error":
                    problems.append(f"{name}: {match}")
    assert problems == []


# -- storage ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_bucket_is_private_versioned_and_tls_only(synths: dict[str, Synth], env: str) -> None:
    synth = synths[env]
    for stack in synth.templates:
        buckets = synth.resources("AWS::S3::Bucket", stack)
        assert buckets
        policies = {
            p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]["Statement"]
            for p in synth.resources("AWS::S3::BucketPolicy", stack).values()
        }
        for logical_id, bucket in buckets.items():
            props = bucket["Properties"]
            assert props["PublicAccessBlockConfiguration"] == {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            }, logical_id
            assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
            denies = [
                s
                for s in policies[logical_id]
                if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            ]
            assert denies, f"{logical_id} accepts plain HTTP"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_data_buckets_use_the_kms_data_key(synths: dict[str, Synth], env: str) -> None:
    synth = synths[env]
    keys = synth.resources("AWS::KMS::Key")
    assert all(k["Properties"]["EnableKeyRotation"] for k in keys.values())
    for layer, bucket in layer_buckets(synth).items():
        (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        default = rule["ServerSideEncryptionByDefault"]
        assert default["SSEAlgorithm"] == "aws:kms", layer
        assert default["KMSMasterKeyID"]["Fn::GetAtt"][0] in keys, layer
        assert rule["BucketKeyEnabled"] is True


def test_lifecycle_archives_to_glacier_and_expires_by_classification(prod: Synth) -> None:
    assert min(RETENTION_YEARS.values()) == 3 and max(RETENTION_YEARS.values()) == 10
    for layer, bucket in layer_buckets(prod).items():
        rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
        for classification, years in RETENTION_YEARS.items():
            rule = rules[f"retain-{classification}-{years}y"]
            assert rule["Status"] == "Enabled"
            assert rule["TagFilters"] == [{"Key": "classification", "Value": classification}]
            assert rule["Transitions"] == [{"StorageClass": "GLACIER", "TransitionInDays": 180}]
            assert rule["ExpirationInDays"] == 365 * years, (layer, classification)
        noncurrent = rules["noncurrent-versions"]
        assert noncurrent["NoncurrentVersionTransitions"] == [{"StorageClass": "GLACIER", "TransitionInDays": 30}]
        assert noncurrent["NoncurrentVersionExpiration"] == {"NoncurrentDays": 395}
        assert noncurrent["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_dev_is_destroyed_with_the_stack_and_prod_is_retained(dev: Synth, prod: Synth) -> None:
    for synth, policy in ((dev, "Delete"), (prod, "Retain")):
        for kind in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::SecretsManager::Secret"):
            assert {r["DeletionPolicy"] for r in synth.resources(kind).values()} == {policy}, (synth.env, kind)
    assert dev.resources("AWS::DynamoDB::Table").popitem()[1]["Properties"].get("DeletionProtectionEnabled") is False
    assert prod.resources("AWS::DynamoDB::Table").popitem()[1]["Properties"]["DeletionProtectionEnabled"] is True


def test_delta_log_store_table_has_the_s3_dynamodb_log_store_schema(prod: Synth) -> None:
    prod.main.has_resource_properties(
        "AWS::DynamoDB::Table",
        {
            "TableName": "lakehouse-prod-delta-log",
            "KeySchema": [
                {"AttributeName": "tablePath", "KeyType": "HASH"},
                {"AttributeName": "fileName", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": Match.array_equals(
                [
                    {"AttributeName": "tablePath", "AttributeType": "S"},
                    {"AttributeName": "fileName", "AttributeType": "S"},
                ]
            ),
            "TimeToLiveSpecification": {"AttributeName": "expireTime", "Enabled": True},
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": Match.object_like({"SSEEnabled": True, "SSEType": "KMS"}),
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        },
    )


def test_replication_with_15_minute_rtc_in_prod_only(dev: Synth, prod: Synth) -> None:
    for bucket in layer_buckets(dev).values():
        assert "ReplicationConfiguration" not in bucket["Properties"]
    for layer, bucket in layer_buckets(prod).items():
        (rule,) = bucket["Properties"]["ReplicationConfiguration"]["Rules"]
        destination = rule["Destination"]
        assert rule["Status"] == "Enabled"
        assert destination["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
        assert destination["Metrics"] == {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
        assert f"lakehouse-prod-{layer}-replica-" in json.dumps(destination["Bucket"])
        assert "alias/lakehouse-prod-replica" in json.dumps(destination["EncryptionConfiguration"])
        assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    replicas = prod.resources("AWS::S3::Bucket", "LakehouseReplica-prod")
    names = sorted(json.dumps(b["Properties"]["BucketName"]) for b in replicas.values())
    assert len(names) == 3 and all("-us-west-2" in n for n in names)


# -- EMR -------------------------------------------------------------------------------------------------


def emr_cluster(synth: Synth) -> dict[str, Any]:
    (cluster,) = synth.resources("AWS::EMR::Cluster").values()
    return cluster["Properties"]


def test_emr_release_fleets_and_managed_scaling(prod: Synth) -> None:
    cluster = emr_cluster(prod)
    assert cluster["ReleaseLabel"] == "emr-spark-8.0.0"
    assert [a["Name"] for a in cluster["Applications"]] == ["Spark", "Delta"]
    instances = cluster["Instances"]
    primary, core = instances["MasterInstanceFleet"], instances["CoreInstanceFleet"]
    assert primary["TargetOnDemandCapacity"] == 1
    assert core["TargetOnDemandCapacity"] == 4
    for fleet in (primary, core):
        assert [t["InstanceType"] for t in fleet["InstanceTypeConfigs"]] == ["m5.2xlarge"]
    (task,) = instances["TaskInstanceFleets"]
    assert task["TargetSpotCapacity"] == 0 and "TargetOnDemandCapacity" not in task
    assert task["InstanceTypeConfigs"][0]["InstanceType"] == "m5.2xlarge"
    assert task["LaunchSpecifications"]["SpotSpecification"]["AllocationStrategy"] == "price-capacity-optimized"
    assert cluster["ManagedScalingPolicy"]["ComputeLimits"] == {
        "UnitType": "InstanceFleetUnits",
        "MinimumCapacityUnits": 5,
        "MaximumCapacityUnits": 13,
        "MaximumOnDemandCapacityUnits": 5,  # growth beyond 1 primary + 4 core is spot
        "MaximumCoreCapacityUnits": 4,
    }


def test_dev_cluster_is_smaller(dev: Synth) -> None:
    instances = emr_cluster(dev)["Instances"]
    assert instances["CoreInstanceFleet"]["TargetOnDemandCapacity"] == 2
    assert instances["CoreInstanceFleet"]["InstanceTypeConfigs"][0]["InstanceType"] == "m5.xlarge"
    assert emr_cluster(dev)["ManagedScalingPolicy"]["ComputeLimits"]["MaximumCapacityUnits"] == 5


def test_emr_configurations_enable_delta_and_the_glue_catalog(prod: Synth) -> None:
    by_class = {c["Classification"]: c["ConfigurationProperties"] for c in emr_cluster(prod)["Configurations"]}
    assert by_class["delta-defaults"] == {"delta.enabled": "true"}
    factory = "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
    assert by_class["spark-hive-site"] == {"hive.metastore.client.factory.class": factory}
    spark = by_class["spark-defaults"]
    assert spark["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert spark["spark.delta.logStore.s3.impl"] == "io.delta.storage.S3DynamoDBLogStore"
    (table_id,) = prod.resources("AWS::DynamoDB::Table")
    assert spark["spark.io.delta.storage.S3DynamoDBLogStore.ddb.tableName"] == {"Ref": table_id}
    assert spark["spark.databricks.delta.optimizeMetadataQuery.enabled"] == "false"


def test_thrift_server_step_on_10001(prod: Synth) -> None:
    (step,) = prod.resources("AWS::EMR::Step").values()
    props = step["Properties"]
    (cluster_id,) = prod.resources("AWS::EMR::Cluster")
    assert props["JobFlowId"] == {"Ref": cluster_id}
    assert props["HadoopJarStep"]["Jar"] == "command-runner.jar"
    command = " ".join(props["HadoopJarStep"]["Args"])
    assert "/usr/lib/spark/sbin/start-thriftserver.sh" in command
    assert "hive.server2.thrift.port=10001" in command
    thrift_groups = [
        g
        for g in prod.resources("AWS::EC2::SecurityGroup").values()
        if g["Properties"]["GroupDescription"] == "EMR thrift"
    ]
    (group,) = thrift_groups
    ingress = [
        r["Properties"]
        for r in prod.resources("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"].get("FromPort") == 10001
    ]
    assert ingress and all("SourceSecurityGroupId" in r for r in ingress), "10001 must only open to a security group"
    assert group


def test_security_configuration_encrypts_at_rest_and_in_transit(prod: Synth) -> None:
    (security,) = prod.resources("AWS::EMR::SecurityConfiguration").values()
    encryption = security["Properties"]["SecurityConfiguration"]["EncryptionConfiguration"]
    assert encryption["EnableAtRestEncryption"] is True
    assert encryption["EnableInTransitEncryption"] is True
    at_rest = encryption["AtRestEncryptionConfiguration"]
    assert at_rest["S3EncryptionConfiguration"]["EncryptionMode"] == "SSE-KMS"
    assert at_rest["LocalDiskEncryptionConfiguration"]["EncryptionKeyProviderType"] == "AwsKms"
    assert at_rest["LocalDiskEncryptionConfiguration"]["EnableEbsEncryption"] is True
    tls = encryption["InTransitEncryptionConfiguration"]["TLSCertificateConfiguration"]
    assert tls["CertificateProviderType"] == "PEM"
    assert emr_cluster(prod)["SecurityConfiguration"] == {
        "Ref": next(iter(prod.resources("AWS::EMR::SecurityConfiguration")))
    }


# -- Lake Formation --------------------------------------------------------------------------------------


def grants_by_role(synth: Synth) -> dict[str, set[tuple[str, str, tuple[str, ...]]]]:
    """role name -> {(database or tag expression, 'db' | 'tables' | 'tag', permissions)}."""
    roles = {k: v["Properties"].get("RoleName") for k, v in synth.resources("AWS::IAM::Role").items()}
    grants: dict[str, set[tuple[str, str, tuple[str, ...]]]] = {}
    for grant in synth.resources("AWS::LakeFormation::PrincipalPermissions").values():
        props = grant["Properties"]
        role_id = props["Principal"]["DataLakePrincipalIdentifier"]["Fn::GetAtt"][0]
        name = roles[role_id] or role_id
        resource = props["Resource"]
        assert props["PermissionsWithGrantOption"] == []
        if "Database" in resource:
            key = (resource["Database"]["Name"], "db")
        elif "Table" in resource:
            assert resource["Table"]["TableWildcard"] == {}
            key = (resource["Table"]["DatabaseName"], "tables")
        else:
            expression = resource["LFTagPolicy"]["Expression"]
            key = (";".join(f"{e['TagKey']}={','.join(e['TagValues'])}" for e in expression), "tag")
        grants.setdefault(name, set()).add((*key, tuple(props["Permissions"])))
    return grants


def read(*databases: str) -> set[tuple[str, str, tuple[str, ...]]]:
    return {g for db in databases for g in ((db, "db", ("DESCRIBE",)), (db, "tables", ("SELECT", "DESCRIBE")))}


def test_each_role_has_exactly_its_grants(prod: Synth) -> None:
    grants = grants_by_role(prod)
    databases = {db["Properties"]["DatabaseInput"]["Name"] for db in prod.resources("AWS::Glue::Database").values()}
    assert {"bronze_stripe", "bronze_workday", "bronze", "silver", "snapshots", "reference", "hr"} <= databases
    assert grants["lakehouse-prod-data-engineer"] == {
        g for db in databases for g in ((db, "db", ("ALL",)), (db, "tables", ("ALL",)))
    }
    assert grants["lakehouse-prod-data-analyst"] == {
        ("silver", "db", ("DESCRIBE",)),
        ("snapshots", "db", ("DESCRIBE",)),
        ("layer=silver;classification=public,internal,confidential", "tag", ("SELECT", "DESCRIBE")),
    } | read("reference", "sales", "marketing")
    assert grants["lakehouse-prod-business-user"] == read("sales", "marketing")
    assert grants["lakehouse-prod-hr-analyst"] == read("hr")
    assert grants["lakehouse-prod-finance-analyst"] == read("finance", "reference")


def test_hr_is_granted_only_to_hr_analysts_and_engineers(prod: Synth) -> None:
    holders = {role for role, grants in grants_by_role(prod).items() if any(g[0] == "hr" for g in grants)}
    personas = {h for h in holders if h.startswith("lakehouse-prod-")}
    assert personas == {"lakehouse-prod-hr-analyst", "lakehouse-prod-data-engineer"}
    assert len(holders - personas) == 2  # the EMR instance role and the orchestrator's task role run the pipeline


def test_databases_live_in_their_layer_bucket_with_a_layer_tag(prod: Synth) -> None:
    buckets = {
        layer: next(k for k in prod.resources("AWS::S3::Bucket") if k.startswith(p)) for layer, p in LAYER_IDS.items()
    }
    locations = {
        db["Properties"]["DatabaseInput"]["Name"]: json.dumps(db["Properties"]["DatabaseInput"]["LocationUri"])
        for db in prod.resources("AWS::Glue::Database").values()
    }
    assert buckets["bronze"] in locations["bronze_stripe"] and "/bronze/stripe" in locations["bronze_stripe"]
    assert buckets["silver"] in locations["silver"] and buckets["silver"] in locations["reference"]
    assert buckets["gold"] in locations["hr"] and "/gold/hr" in locations["hr"]
    layer_of = {
        a["Properties"]["Resource"]["Database"]["Name"]: a["Properties"]["LFTags"][0]["TagValues"]
        for a in prod.resources("AWS::LakeFormation::TagAssociation").values()
    }
    assert layer_of["silver"] == ["silver"] and layer_of["hr"] == ["gold"] and layer_of["bronze_sap"] == ["bronze"]
    prod.main.has_resource_properties(
        "AWS::LakeFormation::Tag", {"TagKey": "classification", "TagValues": list(RETENTION_YEARS)}
    )


# -- secrets, monitoring, orchestrator -------------------------------------------------------------------


def test_source_secrets_are_kms_encrypted(prod: Synth) -> None:
    secrets = {s["Properties"]["Name"]: s["Properties"] for s in prod.resources("AWS::SecretsManager::Secret").values()}
    assert "lakehouse/prod/sources/stripe" in secrets and "lakehouse/prod/pii-salt" in secrets
    assert all("KmsKeyId" in s for s in secrets.values())


def alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()}


def task_containers(synth: Synth) -> dict[str, dict[str, Any]]:
    (task,) = synth.resources("AWS::ECS::TaskDefinition").values()
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def environment(container: dict[str, Any]) -> dict[str, Any]:
    return {variable["Name"]: variable["Value"] for variable in container["Environment"]}


def test_alarms_cover_loads_freshness_sla_and_emr_health(prod: Synth) -> None:
    found = alarms(prod)
    loads = found["lakehouse-prod-load-failures"]
    assert (loads["Namespace"], loads["MetricName"], loads["Threshold"]) == ("Lakehouse", "LoadFailures", 0)
    sla = found["lakehouse-prod-marts-freshness-sla"]
    assert (sla["Namespace"], sla["MetricName"], sla["Threshold"]) == ("Lakehouse", "MartsFreshnessMinutes", 120)
    assert sla["TreatMissingData"] == "breaching"  # in prod, silence is a miss
    assert sla["Period"] == 900  # three runs of the 5-minute publisher: one late run is not silence
    emr = {a["MetricName"] for a in found.values() if a["Namespace"] == "AWS/ElasticMapReduce"}
    assert emr == {"MRUnhealthyNodes", "AppsFailed", "HDFSUtilization"}
    assert all(a["AlarmActions"] for a in found.values())
    (dashboard,) = prod.resources("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "MartsFreshnessMinutes" in body and "AWS/ElasticMapReduce" in body


def test_in_dev_no_freshness_data_leaves_the_sla_alarm_without_data_not_in_alarm(dev: Synth) -> None:
    sla = alarms(dev)["lakehouse-dev-marts-freshness-sla"]
    assert sla["TreatMissingData"] == "missing"  # INSUFFICIENT_DATA, which has no action: no page
    assert "nothing reports" not in sla["AlarmDescription"]
    assert load_config({"env": "dev", "sla_silence_is_miss": "true"}).sla_silence_is_miss


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_publisher_sends_exactly_the_series_the_lakehouse_alarms_watch(synths: dict[str, Synth], env: str) -> None:
    """What `lakehouse load` / `lakehouse metrics publish` send with the task's environment, against the alarms."""
    synth = synths[env]
    task_env = environment(task_containers(synth)["daemon"])
    target = metrics.MetricsTarget(task_env["LAKEHOUSE_CLOUDWATCH_NAMESPACE"], task_env["LAKEHOUSE_ENV"])
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    datums = metrics.load_failures(
        [{"source": "stripe", "stream": "charges", "status": "failed"}], target.environment
    ) + metrics.marts_freshness([{"built_at": now - timedelta(minutes=30)}], target.environment, now)
    published = {(target.namespace, d.name, frozenset(d.dimensions)): d.unit for d in datums}
    watched = {
        (a["Namespace"], a["MetricName"], frozenset((d["Name"], d["Value"]) for d in a["Dimensions"])): a.get("Unit")
        for a in alarms(synth).values()
        if a["Namespace"] == target.namespace
    }
    assert {name for _, name, _ in watched} == {metrics.LOAD_FAILURES, metrics.MARTS_FRESHNESS}
    for series, unit in watched.items():
        assert series in published, f"no publisher sends {series}"
        assert unit in (None, published[series])  # an alarm without a unit takes any


def test_dagster_runs_on_fargate_from_ecr(prod: Synth) -> None:
    prod.main.has_resource_properties(
        "AWS::ECS::Service",
        {"LaunchType": "FARGATE", "DesiredCount": 1, "NetworkConfiguration": Match.object_like({})},
    )
    containers = task_containers(prod)
    assert set(containers) == {"webserver", "daemon"}
    (repo_id,) = prod.resources("AWS::ECR::Repository")
    for container in containers.values():
        assert repo_id in json.dumps(container["Image"]) and ":0.1.0" in json.dumps(container["Image"])
    # both load the project's workspace (orchestration/README.md)
    assert containers["webserver"]["Command"][:3] == ["dagster-webserver", "-w", "orchestration/workspace.yaml"]
    assert containers["daemon"]["Command"] == ["dagster-daemon", "run", "-w", "orchestration/workspace.yaml"]
    service = prod.resources("AWS::ECS::Service").popitem()[1]["Properties"]
    assert service["NetworkConfiguration"]["AwsvpcConfiguration"]["AssignPublicIp"] == "DISABLED"


def test_the_orchestrator_gets_the_thrift_host_from_the_cluster_and_no_emr_api_grant(prod: Synth) -> None:
    (cluster_id,) = prod.resources("AWS::EMR::Cluster")
    primary_dns = {"Fn::GetAtt": [cluster_id, "MasterPublicDNS"]}
    for container in task_containers(prod).values():
        variables = environment(container)
        assert variables["EMR_THRIFT_HOST"] == variables["LAKEHOUSE_THRIFT_HOST"] == primary_dns
        assert variables["EMR_THRIFT_PORT"] == variables["LAKEHOUSE_THRIFT_PORT"] == "10001"
        assert (variables["LAKEHOUSE_CLOUDWATCH_NAMESPACE"], variables["LAKEHOUSE_ENV"]) == ("Lakehouse", "prod")
    (task,) = prod.resources("AWS::ECS::TaskDefinition").values()
    role_id = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in prod.resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in actions if a.startswith("elasticmapreduce:")}  # nothing looks the cluster up
    (put,) = [s for s in statements if s["Action"] == "cloudwatch:PutMetricData"]
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Lakehouse"}}


def test_context_overrides_defaults() -> None:
    config = load_config({"env": "prod", "emr_release": "emr-7.12.0", "replication": "false", "sources": "a,b"})
    assert (config.emr_release, config.replication, config.sources) == ("emr-7.12.0", False, ("a", "b"))
    assert load_config({}).env == "dev"
    with pytest.raises(ValueError, match="env=dev or -c env=prod"):
        load_config({"env": "staging"})


# -- dbt classification -> LF-Tags, against moto ---------------------------------------------------------


def manifest() -> dict[str, Any]:
    """A small dbt manifest: a silver model with pii columns, an HR model restricted as a whole, a seed."""

    def column(name: str, **meta: str) -> dict[str, Any]:
        return {"name": name, "meta": meta}

    return {
        "nodes": {
            "model.lakehouse.slv_customers": {
                "resource_type": "model",
                "name": "slv_customers",
                "schema": "silver",
                "meta": {},
                "config": {"meta": {}},
                "columns": {
                    "customer_id": column("customer_id"),
                    "email_hash": column("email_hash", pii="email", classification="pii"),
                    "phone_hash": column("phone_hash", pii="phone"),
                    "country_code": column("country_code", classification="public"),
                },
            },
            "model.lakehouse.dim_employees": {
                "resource_type": "model",
                "name": "dim_employees",
                "alias": "employees",
                "schema": "hr",
                "config": {"meta": {"classification": "restricted"}},
                "columns": {"employee_id": column("employee_id"), "full_name": column("full_name", pii="name")},
            },
            "seed.lakehouse.currencies": {
                "resource_type": "seed",
                "name": "currencies",
                "schema": "reference",
                "columns": {"currency_code": column("currency_code", classification="public")},
            },
            "test.lakehouse.not_null_x": {"resource_type": "test", "name": "x", "schema": "silver", "columns": {}},
        }
    }


def test_classification_per_column_from_manifest() -> None:
    got = {(t.database, t.table, t.column): t.classification for t in lf_tags.column_tags(manifest())}
    assert got == {
        ("silver", "slv_customers", "customer_id"): "internal",
        ("silver", "slv_customers", "email_hash"): "pii",
        ("silver", "slv_customers", "phone_hash"): "pii",
        ("silver", "slv_customers", "country_code"): "public",
        ("hr", "employees", "employee_id"): "restricted",
        ("hr", "employees", "full_name"): "restricted",
        ("reference", "currencies", "currency_code"): "public",
    }


@pytest.fixture
def lakeformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("lakeformation", region_name="us-east-1")


def column_tags_in_lf(client: Any, database: str, table: str, columns: list[str]) -> dict[str, list[dict[str, Any]]]:
    response = client.get_resource_lf_tags(
        Resource={"TableWithColumns": {"DatabaseName": database, "Name": table, "ColumnNames": columns}}
    )
    return {c["Name"]: c["LFTags"] for c in response.get("LFTagsOnColumns", [])}


def test_export_dry_run_plans_without_changing_anything(lakeformation: Any, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest()))
    changes = lf_tags.export(path, lakeformation, dry_run=True)
    assert len(changes) == 7 and all(c.current is None for c in changes)
    assert "silver.slv_customers.email_hash: - -> pii" in {str(c) for c in changes}
    assert column_tags_in_lf(lakeformation, "silver", "slv_customers", ["email_hash"]) == {}


def test_export_applies_column_tags_idempotently(lakeformation: Any, tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest()))
    assert len(lf_tags.export(path, lakeformation, dry_run=False)) == 7
    tags = column_tags_in_lf(lakeformation, "silver", "slv_customers", ["customer_id", "email_hash", "country_code"])
    values = {name: [(t["TagKey"], t["TagValues"]) for t in lf] for name, lf in tags.items()}
    assert values == {
        "customer_id": [("classification", ["internal"])],
        "email_hash": [("classification", ["pii"])],
        "country_code": [("classification", ["public"])],
    }
    hr = column_tags_in_lf(lakeformation, "hr", "employees", ["full_name"])
    assert hr["full_name"][0]["TagValues"] == ["restricted"]
    assert set(lakeformation.get_lf_tag(TagKey="classification")["TagValues"]) == {
        "internal",
        "pii",
        "public",
        "restricted",
    }
    # a second run finds nothing to do; a reclassified column is the only change after that
    assert lf_tags.export(path, lakeformation, dry_run=False) == []
    changed = manifest()
    changed["nodes"]["model.lakehouse.slv_customers"]["columns"]["customer_id"]["meta"] = {
        "classification": "confidential"
    }
    path.write_text(json.dumps(changed))
    (change,) = lf_tags.export(path, lakeformation, dry_run=False)
    assert (str(change.tag.column), change.current, change.tag.classification) == (
        "customer_id",
        "internal",
        "confidential",
    )
    assert column_tags_in_lf(lakeformation, "silver", "slv_customers", ["customer_id"])["customer_id"][0][
        "TagValues"
    ] == ["confidential"]


def test_unknown_classification_is_refused() -> None:
    bad = manifest()
    bad["nodes"]["seed.lakehouse.currencies"]["columns"]["currency_code"]["meta"] = {"classification": "secret"}
    with pytest.raises(ValueError, match="unknown classification 'secret'"):
        lf_tags.column_tags(bad)
