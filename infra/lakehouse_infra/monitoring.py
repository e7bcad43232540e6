"""CloudWatch: alarms on load failures, the 2-hour marts freshness SLA and EMR health; one dashboard.

`lakehouse load` and `lakehouse metrics publish` (lakehouse/report/metrics.py) publish the custom metrics
in the `Lakehouse` namespace, dimension `Environment`: `LoadFailures` (count of failed stream loads) and
`MartsFreshnessMinutes` (minutes since the stalest mart's last successful build). The orchestrator's task
gets the namespace as LAKEHOUSE_CLOUDWATCH_NAMESPACE (orchestrator.py); a test checks that the
publisher's names and dimensions are the ones these alarms watch.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_emr as emr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from lakehouse_infra.config import LakehouseConfig

NAMESPACE = "Lakehouse"
EMR_NAMESPACE = "AWS/ElasticMapReduce"
# `lakehouse metrics publish` runs every PUBLISH_MINUTES (infra/README.md); the SLA alarm's period holds
# three of its datapoints, so one late or lost run is not read as silence.
PUBLISH_MINUTES = 5
SLA_PERIOD = Duration.minutes(3 * PUBLISH_MINUTES)


class MonitoringConstruct(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, config: LakehouseConfig, key: kms.IKey, cluster: emr.CfnCluster
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        self.topic = sns.Topic(self, "Alarms", topic_name=f"{config.prefix}-alarms", master_key=key, enforce_ssl=True)
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.alarms = [
            self._load_failures(),
            self._marts_freshness(),
            *self._emr_health(cluster),
        ]
        action = cw_actions.SnsAction(self.topic)
        for alarm in self.alarms:
            alarm.add_alarm_action(action)
            alarm.add_ok_action(action)
        self.dashboard = self._dashboard(cluster)

    def _metric(self, name: str, statistic: str) -> cw.Metric:
        return cw.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={"Environment": self.config.env},
            statistic=statistic,
            period=Duration.minutes(5),
        )

    def _load_failures(self) -> cw.Alarm:
        return cw.Alarm(
            self,
            "LoadFailures",
            alarm_name=f"{self.config.prefix}-load-failures",
            alarm_description="A loader stream failed (after its retries).",
            metric=self._metric("LoadFailures", "Sum"),
            threshold=0,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
        )

    def _marts_freshness(self) -> cw.Alarm:
        # Silence: in prod it is a miss (a stopped orchestrator or publisher publishes nothing). In dev the
        # orchestrator runs only while someone works on the stack; BREACHING would hold the alarm in ALARM
        # the rest of the time and page the topic after every deploy, NOT_BREACHING would claim the SLA is
        # met. MISSING leaves it INSUFFICIENT_DATA ("nothing reports"), with no action, until data arrives.
        silence_is_miss = self.config.sla_silence_is_miss
        return cw.Alarm(
            self,
            "MartsFreshnessSla",
            alarm_name=f"{self.config.prefix}-marts-freshness-sla",
            alarm_description=f"SLA miss: the stalest mart is older than {self.config.sla_minutes} minutes"
            + (" (or nothing reports freshness)." if silence_is_miss else "."),
            metric=self._metric("MartsFreshnessMinutes", "Maximum").with_(period=SLA_PERIOD),
            threshold=self.config.sla_minutes,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cw.TreatMissingData.BREACHING if silence_is_miss else cw.TreatMissingData.MISSING,
        )

    def _emr_metric(self, cluster: emr.CfnCluster, name: str, statistic: str) -> cw.Metric:
        return cw.Metric(
            namespace=EMR_NAMESPACE,
            metric_name=name,
            dimensions_map={"JobFlowId": cluster.ref},
            statistic=statistic,
            period=Duration.minutes(5),
        )

    def _emr_health(self, cluster: emr.CfnCluster) -> list[cw.Alarm]:
        checks = [
            ("EmrUnhealthyNodes", "MRUnhealthyNodes", "Maximum", 0, "YARN reports unhealthy nodes.", 2),
            ("EmrAppsFailed", "AppsFailed", "Sum", 0, "Spark applications failed on YARN.", 1),
            ("EmrHdfsUtilization", "HDFSUtilization", "Average", 80, "HDFS on the core nodes is over 80% full.", 3),
        ]
        return [
            cw.Alarm(
                self,
                construct_id,
                alarm_name=f"{self.config.prefix}-{construct_id.lower()}",
                alarm_description=description,
                metric=self._emr_metric(cluster, metric, statistic),
                threshold=threshold,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                evaluation_periods=periods,
                treat_missing_data=cw.TreatMissingData.MISSING,
            )
            for construct_id, metric, statistic, threshold, description, periods in checks
        ]

    def _dashboard(self, cluster: emr.CfnCluster) -> cw.Dashboard:
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{self.config.prefix}-lakehouse")
        dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24),
        )
        dashboard.add_widgets(
            cw.GraphWidget(title="Loads failed", left=[self._metric("LoadFailures", "Sum")], width=8),
            cw.GraphWidget(
                title="Marts freshness (minutes)",
                left=[self._metric("MartsFreshnessMinutes", "Maximum")],
                left_annotations=[cw.HorizontalAnnotation(value=self.config.sla_minutes, label="SLA")],
                width=8,
            ),
            cw.GraphWidget(
                title="EMR nodes",
                left=[
                    self._emr_metric(cluster, "CoreNodesRunning", "Average"),
                    self._emr_metric(cluster, "TaskNodesRunning", "Average"),
                    self._emr_metric(cluster, "MRUnhealthyNodes", "Maximum"),
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            cw.GraphWidget(
                title="EMR YARN memory and apps",
                left=[self._emr_metric(cluster, "YARNMemoryAvailablePercentage", "Average")],
                right=[
                    self._emr_metric(cluster, "AppsRunning", "Average"),
                    self._emr_metric(cluster, "AppsFailed", "Sum"),
                ],
                width=12,
            ),
            cw.GraphWidget(
                title="EMR HDFS utilization", left=[self._emr_metric(cluster, "HDFSUtilization", "Average")], width=12
            ),
        )
        return dashboard
