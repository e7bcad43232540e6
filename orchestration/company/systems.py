"""Every source system of the seed document, in one registry."""

from __future__ import annotations

from orchestration.company.projections.ads import FACEBOOK_ADS, GOOGLE_ADS
from orchestration.company.projections.analytics import AMPLITUDE, MIXPANEL, SEGMENT
from orchestration.company.projections.commerce import NETSUITE, SHOPIFY, STRIPE
from orchestration.company.projections.crm import HUBSPOT, SALESFORCE
from orchestration.company.projections.erp import SAP, WORKDAY
from orchestration.company.projections.files import AZURE, FTP, GCS, S3, SFTP
from orchestration.company.projections.nosql import DYNAMODB, MONGODB
from orchestration.company.projections.sql import MYSQL, ORACLE, POSTGRES, SQLSERVER
from orchestration.company.projections.streams import IOT_CORE, KAFKA, KINESIS
from orchestration.company.projections.warehouse import BIGQUERY, REDSHIFT, SNOWFLAKE
from orchestration.company.spec import FAMILIES, FREQUENCIES, SystemDef

SYSTEMS: dict[str, SystemDef] = {
    s.name: s
    for s in sorted(
        (
            POSTGRES,
            MYSQL,
            SQLSERVER,
            ORACLE,
            SNOWFLAKE,
            REDSHIFT,
            BIGQUERY,
            MONGODB,
            DYNAMODB,
            KAFKA,
            KINESIS,
            SALESFORCE,
            HUBSPOT,
            SHOPIFY,
            STRIPE,
            GOOGLE_ADS,
            FACEBOOK_ADS,
            SFTP,
            FTP,
            GCS,
            AZURE,
            S3,
            IOT_CORE,
            MIXPANEL,
            AMPLITUDE,
            SEGMENT,
            SAP,
            WORKDAY,
            NETSUITE,
        ),
        key=lambda s: s.name,
    )
}


def _check() -> None:
    for system in SYSTEMS.values():
        assert system.family in FAMILIES, system.name
        for spec in system.streams:
            assert spec.frequency in FREQUENCIES, (system.name, spec.stream)
            assert (spec.schema is not None) == (spec.fmt == "parquet"), (system.name, spec.stream)


_check()
