"""Every source system of the seed document, in one registry."""

from __future__ import annotations

from company.projections.ads import FACEBOOK_ADS, GOOGLE_ADS
from company.projections.analytics import AMPLITUDE, MIXPANEL, SEGMENT
from company.projections.commerce import NETSUITE, SHOPIFY, STRIPE
from company.projections.crm import HUBSPOT, SALESFORCE
from company.projections.erp import SAP, WORKDAY
from company.projections.files import AZURE, FTP, GCS, S3, SFTP
from company.projections.nosql import DYNAMODB, MONGODB
from company.projections.sql import MYSQL, ORACLE, POSTGRES, SQLSERVER
from company.projections.streams import IOT_CORE, KAFKA, KINESIS
from company.projections.warehouse import BIGQUERY, REDSHIFT, SNOWFLAKE
from company.spec import KINDS, SystemDef
from lakehouse.core.frequency import Frequency

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
        assert system.kind in KINDS, system.name
        for spec in system.streams:
            assert spec.frequency in set(Frequency), (system.name, spec.stream)
            assert (spec.schema is not None) == (spec.fmt == "parquet"), (system.name, spec.stream)


_check()
