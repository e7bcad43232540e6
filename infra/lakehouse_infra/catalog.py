"""The Glue Data Catalog databases (the metastore of EMR's Spark) and their LF-Tags.

The same databases as `lakehouse/catalog.py` creates locally, each located in its layer's bucket:
bronze in the bronze bucket (`bronze/<source>`, dbt's views in `bronze/_models`), silver, snapshots and
reference in the silver bucket, the marts and observability in the gold bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_lakeformation as lf
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lakehouse_infra.config import RETENTION_YEARS, LakehouseConfig

CLASSIFICATION_TAG = "classification"
LAYER_TAG = "layer"
MARTS: tuple[str, ...] = ("sales", "marketing", "finance", "hr")


@dataclass(frozen=True)
class Database:
    name: str
    layer: str  # bronze | silver | gold: the bucket it lives in, and its `layer` LF-Tag
    folder: str  # key prefix inside the layer bucket


def databases(config: LakehouseConfig) -> list[Database]:
    """Every Glue database of the lakehouse, in a stable order."""
    bronze = [Database(f"bronze_{source}", "bronze", f"bronze/{source}") for source in config.sources]
    return [
        *bronze,
        Database("bronze", "bronze", "bronze/_models"),
        Database("silver", "silver", "silver"),
        Database("snapshots", "silver", "silver/_snapshots"),
        Database("reference", "silver", "silver/_reference"),
        *[Database(mart, "gold", f"gold/{mart}") for mart in MARTS],
        Database("observability", "gold", "observability"),
    ]


class CatalogConstruct(Construct):
    """Glue databases, the two LF-Tags (`classification`, `layer`) and each database's `layer` tag."""

    def __init__(
        self, scope: Construct, construct_id: str, config: LakehouseConfig, buckets: dict[str, s3.Bucket]
    ) -> None:
        super().__init__(scope, construct_id)
        self.databases = databases(config)
        self.cfn_databases: dict[str, glue.CfnDatabase] = {}
        classification = lf.CfnTag(
            self, "ClassificationTag", tag_key=CLASSIFICATION_TAG, tag_values=list(RETENTION_YEARS)
        )
        layer = lf.CfnTag(self, "LayerTag", tag_key=LAYER_TAG, tag_values=["bronze", "silver", "gold"])
        self.tags = [classification, layer]
        for database in self.databases:
            cfn = self._database(database, buckets[database.layer])
            self.cfn_databases[database.name] = cfn
            self._tag_layer(database, cfn, layer)

    def _database(self, database: Database, bucket: s3.Bucket) -> glue.CfnDatabase:
        return glue.CfnDatabase(
            self,
            f"Db-{database.name}",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database.name,
                description=f"Lakehouse {database.layer} database {database.name}",
                location_uri=bucket.s3_url_for_object(database.folder),
            ),
        )

    def _tag_layer(self, database: Database, cfn: glue.CfnDatabase, layer_tag: lf.CfnTag) -> None:
        association = lf.CfnTagAssociation(
            self,
            f"Layer-{database.name}",
            resource=lf.CfnTagAssociation.ResourceProperty(
                database=lf.CfnTagAssociation.DatabaseResourceProperty(catalog_id=Aws.ACCOUNT_ID, name=database.name)
            ),
            lf_tags=[
                lf.CfnTagAssociation.LFTagPairProperty(
                    catalog_id=Aws.ACCOUNT_ID, tag_key=LAYER_TAG, tag_values=[database.layer]
                )
            ],
        )
        association.add_resource_dependency(cfn)
        association.add_resource_dependency(layer_tag)
