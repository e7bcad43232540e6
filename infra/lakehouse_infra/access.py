"""Who reads what: one IAM role per persona of the seed, and its Lake Formation grants.

Grants name exact databases. Silver (and snapshots) is where column-level classification matters: data
analysts read it through an LF-Tag policy (`layer=silver` and `classification` public/internal/confidential),
so columns the dbt `meta` marks `pii` or `restricted` (tagged by `lf_tags.py`) stay invisible to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lakeformation as lf
from constructs import Construct

from lakehouse_infra.catalog import CLASSIFICATION_TAG, LAYER_TAG, Database
from lakehouse_infra.config import LakehouseConfig
from lakehouse_infra.nag import suppress, wildcard_findings

READ = ("SELECT", "DESCRIBE")
ANALYST_CLASSIFICATIONS = ("public", "internal", "confidential")


@dataclass(frozen=True)
class Grant:
    """Permissions on one database, and on all of its tables (empty: none on tables)."""

    database: str
    database_permissions: tuple[str, ...]
    table_permissions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Persona:
    name: str
    description: str
    grants: tuple[Grant, ...]
    silver_by_tag: bool = False  # SELECT on silver columns whose classification is below pii


def _read(*names: str) -> tuple[Grant, ...]:
    return tuple(Grant(name, ("DESCRIBE",), READ) for name in names)


def personas(all_databases: list[Database]) -> tuple[Persona, ...]:
    """The five access roles of the seed's access-control section."""
    everything = tuple(Grant(db.name, ("ALL",), ("ALL",)) for db in all_databases)
    return (
        Persona("data-engineer", "Data engineers: full access to all data", everything),
        Persona(
            "data-analyst",
            "Data analysts: read silver (below pii, by LF-Tag) and the sales and marketing marts; not hr or finance",
            (
                Grant("silver", ("DESCRIBE",)),
                Grant("snapshots", ("DESCRIBE",)),
                *_read("reference", "sales", "marketing"),
            ),
            silver_by_tag=True,
        ),
        Persona("business-user", "Business users: the sales and marketing fact tables", _read("sales", "marketing")),
        Persona("hr-analyst", "HR analysts: the restricted hr database only", _read("hr")),
        Persona("finance-analyst", "Finance analysts: the finance mart, reference data", _read("finance", "reference")),
    )


class AccessConstruct(Construct):
    """Persona roles (assumed through the account's identity provider) and their Lake Formation grants."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        config: LakehouseConfig,
        all_databases: list[Database],
        cfn_databases: dict[str, glue.CfnDatabase],
        tags: list[lf.CfnTag],
        pipeline_roles: dict[str, iam.IRole],
    ) -> None:
        super().__init__(scope, construct_id)
        self._cfn_databases = cfn_databases
        self._tags = tags
        self.roles: dict[str, iam.Role] = {}
        for persona in personas(all_databases):
            role = self._role(config, persona)
            self.roles[persona.name] = role
            self._grant(persona.name, role.role_arn, persona)
        engineer = personas(all_databases)[0]
        for name, role in pipeline_roles.items():
            self._grant(name, role.role_arn, engineer)

    def _role(self, config: LakehouseConfig, persona: Persona) -> iam.Role:
        role = iam.Role(
            self,
            f"Role-{persona.name}",
            role_name=f"{config.prefix}-{persona.name}",
            description=persona.description,
            assumed_by=iam.AccountRootPrincipal(),
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "lakeformation:GetDataAccess",
                    "glue:GetDatabase",
                    "glue:GetDatabases",
                    "glue:GetTable",
                    "glue:GetTables",
                    "glue:GetPartitions",
                ],
                resources=["*"],
            )
        )
        suppress(
            role,
            wildcard_findings(
                "Lake Formation decides what this role sees: lakeformation:GetDataAccess only takes resource *, "
                "and Glue returns only what the role's Lake Formation grants allow.",
                "Resource::*",
            ),
        )
        return role

    def _grant(self, name: str, principal_arn: str, persona: Persona) -> None:
        for grant in persona.grants:
            self._permissions(
                f"{name}-{grant.database}-db", principal_arn, grant.database_permissions, grant.database, False
            )
            if grant.table_permissions:
                self._permissions(
                    f"{name}-{grant.database}-tables", principal_arn, grant.table_permissions, grant.database, True
                )
        if persona.silver_by_tag:
            self._silver_by_tag(name, principal_arn)

    def _permissions(
        self, construct_id: str, principal_arn: str, permissions: tuple[str, ...], database: str, tables: bool
    ) -> None:
        if tables:
            resource = lf.CfnPrincipalPermissions.ResourceProperty(
                table=lf.CfnPrincipalPermissions.TableResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID, database_name=database, table_wildcard={}
                )
            )
        else:
            resource = lf.CfnPrincipalPermissions.ResourceProperty(
                database=lf.CfnPrincipalPermissions.DatabaseResourceProperty(catalog_id=Aws.ACCOUNT_ID, name=database)
            )
        cfn = lf.CfnPrincipalPermissions(
            self,
            construct_id,
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(
                data_lake_principal_identifier=principal_arn
            ),
            resource=resource,
            permissions=list(permissions),
            permissions_with_grant_option=[],
        )
        cfn.add_resource_dependency(self._cfn_databases[database])

    def _silver_by_tag(self, name: str, principal_arn: str) -> None:
        cfn = lf.CfnPrincipalPermissions(
            self,
            f"{name}-silver-by-tag",
            principal=lf.CfnPrincipalPermissions.DataLakePrincipalProperty(
                data_lake_principal_identifier=principal_arn
            ),
            resource=lf.CfnPrincipalPermissions.ResourceProperty(
                lf_tag_policy=lf.CfnPrincipalPermissions.LFTagPolicyResourceProperty(
                    catalog_id=Aws.ACCOUNT_ID,
                    resource_type="TABLE",
                    expression=[
                        lf.CfnPrincipalPermissions.LFTagProperty(tag_key=LAYER_TAG, tag_values=["silver"]),
                        lf.CfnPrincipalPermissions.LFTagProperty(
                            tag_key=CLASSIFICATION_TAG, tag_values=list(ANALYST_CLASSIFICATIONS)
                        ),
                    ],
                )
            ),
            permissions=list(READ),
            permissions_with_grant_option=[],
        )
        for tag in self._tags:
            cfn.add_resource_dependency(tag)
